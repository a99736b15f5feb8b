/*
 * config-test.h - pop3-handler -t: the check of a configuration before a
 * reload, as sshd -t and nginx -t do.
 */
#ifndef POP3_CONFIG_TEST_H
#define POP3_CONFIG_TEST_H

#include "config.h"

/* Reads what a session with cfg would read besides the configuration (privsep_user and
 * privsep_dir when root, the user database, the PAM service file, the keytab) and logs every
 * problem it finds: LOG_ERR where a session would not start or no login could succeed,
 * LOG_WARNING where a session would skip or do without something.  Never logs a hash. */
void config_test(const struct config *cfg);

#endif
