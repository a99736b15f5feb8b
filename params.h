/*
 * params.h - every limit and default of pop3-handler in one place, each
 * with the reason for its value.
 */
#ifndef POP3_PARAMS_H
#define POP3_PARAMS_H

/* RFC 1939 and profile C0001: a single-line response is at most 512 octets,
 * CRLF included. */
#define RESPONSE_MAX 512

/* Profile E0006/E0007: the command length limit is settable from 40 to 1024
 * octets (CRLF included); RFC 2449 needs at least 255, Exchange 2010 uses 512. */
#define COMMAND_LENGTH_MIN 40
#define COMMAND_LENGTH_MAX 1024
#define COMMAND_LENGTH_DEFAULT 512

/* Dovecot closes a session after 20 bad commands: a client that has sent that
 * many is broken or probing, and answering it further only costs us. */
#define BAD_COMMANDS_MAX 20

/* Longest user name accepted: longer than any real login, short enough to
 * log and to keep in a fixed buffer. */
#define USER_NAME_MAX 64

/* Input is read in blocks of this size: large enough to take a whole
 * pipelined batch of commands in one read(), and the longest SASL response
 * line (GSSAPI_LINE_MAX, below). */
#define INPUT_BUFFER_SIZE GSSAPI_LINE_MAX

/* Output is gathered up to this size before write(): message bodies go out
 * in few large writes instead of one system call per line. */
#define OUTPUT_BUFFER_SIZE 65536

/* Message files are read in blocks of this size, while streamed (RETR, TOP) and while sized:
 * few read() calls per message, and a block per reader that costs little memory. */
#define MESSAGE_READ_BLOCK 65536

/* With oe-ns-eoh each session reads every message's header (where it ends decides the size);
 * in blocks of this size: most headers fit in one, and a large message costs no more. */
#define HEADER_READ_BLOCK 8192

/* The most messages one snapshot takes: records are compact (well under
 * 100 octets each), so this bounds a session's memory to a few hundred MiB
 * however large a hostile Maildir grows.  Further messages wait for a later
 * session and are logged. */
#define MESSAGES_MAX 4000000

/* An NSS passwd entry (getpwnam_r) is read into a buffer of this size, doubled while too
 * small up to the maximum: 4 KiB holds any local entry, and a directory's entry with a
 * long gecos field or home fits long before 1 MiB, which bounds what a hostile directory
 * can make us allocate. */
#define PASSWD_ENTRY_BUFFER 4096
#define PASSWD_ENTRY_BUFFER_MAX (1024UL * 1024)

/* LIST, STAT and RETR give no message as larger than this (4 TiB), whatever its file or a
 * hostile UID list claims (a sparse file may claim 8 EiB): MESSAGES_MAX of them still add up
 * below 2^64, so no total wraps. */
#define MESSAGE_SIZE_MAX (UINT64_MAX / MESSAGES_MAX)

/* RFC 1939: a unique-id is 1 to 70 octets from 0x21 to 0x7E.  A UIDL taken over from a
 * previous server (uidl-import.h) is kept only when it is one. */
#define UIDL_STRING_MAX 70

/* Taking over a previous server's UIDLs (uidl-import.h): its file is read whole when no larger
 * than this (Dovecot's list of MESSAGES_MAX messages takes some 200 MiB); an X-UIDL header is
 * looked for in the first octets of a message, where servers put it. */
#define UIDL_IMPORT_FILE_MAX (512UL * 1024 * 1024)
#define UIDL_HEADER_READ_MAX 16384

/* Dovecot's default pop3_uidl_format: eight hexadecimal digits of the IMAP UID, then eight of
 * the UIDVALIDITY (uidl_migrate_format). */
#define UIDL_MIGRATE_FORMAT_DEFAULT "%08Xu%08Xv"

/* Our decimal UIDs start at the clock floor, microseconds since 1970, so none is below 10^15
 * (September 2001): an all-digit UIDL taken over below it can equal none of them. */
#define UIDL_NUMBER_SAFE_BELOW 1000000000000000ULL

/* A line of the configuration or passwd file longer than this is refused:
 * no legitimate line comes near it, and the bound keeps a hostile file from
 * growing our memory. */
#define CONFIG_LINE_MAX 4096

/* The UID list is at most this large: about 250 octets for each of
 * MESSAGES_MAX entries.  A larger file is not ours and is treated as corrupt. */
#define UIDLIST_SIZE_MAX (1024UL * 1024 * 1024)

/* A file name the UID list stores (a base name and any ":2,..." info) is at most this long:
 * NAME_MAX, the longest name Linux's own file systems allow, and an entry keeps the length in
 * an octet. */
#define UIDLIST_NAME_MAX 255

/* UIDs stay below this, half the 64-bit range, so that the arithmetic on them (the next UID,
 * one above the highest a damaged list named) never overflows; issued one per microsecond from
 * the clock floor, they would last some 290,000 years. */
#define UID_LIMIT (UINT64_MAX / 2)

/* No UID list, lock file mark or damaged list's number may raise the next UID above the
 * clock floor (microseconds since 1970) by more than this: ten years of microseconds.  UIDs
 * start again at the clock floor, and a mailbox's deliveries never outrun the microseconds
 * that pass, so no list we wrote goes beyond it unless the clock was set back by ten years;
 * and a hostile or damaged one that names a UID near UID_LIMIT cannot use up the UIDs of a
 * mailbox for good. */
#define UID_CLOCK_MARGIN (10ULL * 366 * 24 * 3600 * 1000000)

/* The UID list's hash index has at least this many slots, and at least twice as many as
 * entries: probes stay short, and a small list's index is built once rather than at each of
 * its first adds. */
#define UIDLIST_INDEX_SLOTS_MIN 64

/* The UID list is written out in blocks of this size: few system calls,
 * and never a second copy of a large list in memory. */
#define UIDLIST_WRITE_BLOCK 65536

/* How long a session waits for the UID list lock.  Its holder keeps it
 * for the few milliseconds of an update, and the kernel drops it when the
 * holder dies, so waiting longer means something is badly wrong. */
#define UIDLIST_LOCK_WAIT_MS 10000
#define UIDLIST_LOCK_RETRY_MS 20

/* On a file system several hosts share, a host may cache a name, a file's
 * attributes and its data for a while after another host replaced the
 * file (GlusterFS: one second each, by default; NFS revalidates at open
 * and lock).  A session that reads the UID list another host replaced
 * reads it again every SHARED_RETRY_MS until it gets the new one, for at
 * most SHARED_STALE_WAIT_MS: three times GlusterFS's default, and well
 * within a client's patience at login. */
#define SHARED_STALE_WAIT_MS 3000
#define SHARED_RETRY_MS 25

/* A first session reads every message file once, for its size; from this
 * many unknown messages on, the files are read by up to SIZING_THREADS_MAX
 * threads (one per CPU), SIZING_CHUNK messages at a claim.  Below it a
 * thread costs more than it saves; more threads than this only contend for
 * the same directory. */
#define SIZING_PARALLEL_MIN 1000
#define SIZING_THREADS_MAX 4
#define SIZING_CHUNK 64

/* A snapshot taken from the UID list alone trusts that new/ and cur/ have
 * not changed while their change times are the ones the list recorded.  So
 * a change time is recorded only when it lay this far back at the scan
 * (nanoseconds): then any later change gets a later time.  File systems
 * stamp changes from a clock that runs up to a timer tick (at most 10 ms)
 * behind; ones without sub-second times (all nanoseconds 0) round to whole
 * seconds, FAT to two. */
#define STAMP_SETTLE_NS 50000000ULL
#define STAMP_SETTLE_COARSE_NS 2000000000ULL

/* A Maildir directory that changes while it is read is read again, up to
 * this many times; after that the snapshot is used but the UID list keeps
 * the entries it did not see (a concurrent rename may have hidden them). */
#define SCAN_ATTEMPTS 3

/* Profile V0002: the inactivity timers default to 60 s before and 1800 s
 * after login, as Exchange's.  The upper bound keeps the timers meaningful
 * (one day). */
#define TIMEOUT_UNAUTH_DEFAULT 60
#define TIMEOUT_AUTH_DEFAULT 1800
#define TIMEOUT_MAX 86400

/* Bounds for max_auth_failures and auth_fail_delay: more than 100 tries or a
 * delay of more than a minute per failure is a configuration mistake.  By
 * default the third failure closes the session and each failure costs two
 * seconds (Dovecot's auth_failure_delay): a password guesser gets three
 * guesses per connection, each two seconds apart. */
#define AUTH_FAILURES_DEFAULT 3
#define AUTH_FAILURES_MAX 100
#define AUTH_FAIL_DELAY_DEFAULT 2
#define AUTH_FAIL_DELAY_MAX 60

/* Privilege separation: a login request from the network child is of fixed
 * size, with room for a secret of this many octets.  A PASS argument and a
 * decoded SASL PLAIN password both come from one command line, which is
 * shorter than COMMAND_LENGTH_MAX with its CRLF. */
#define PRIVSEP_SECRET_MAX (COMMAND_LENGTH_MAX - 1)

/* A session starts at most max_auth_failures plus this many login
 * exchanges (a USER/PASS or PLAIN login, an NTLM challenge, a GSSAPI
 * exchange).  Failures close the session at max_auth_failures; the other
 * endings (a cancelled exchange, the user database unavailable, an
 * account refused) are rare for an honest client.  Beyond it the session
 * says so and closes; a separated child that asks its parent beyond it is
 * not honest and is killed. */
#define AUTH_EXTRA_EXCHANGES 5

/* A SASL client response (the line answering a "+ " challenge) may be
 * longer than a command: RFC 5034 lifts the command length limit for
 * them, bounding each by what its mechanism needs.  An NTLM AUTHENTICATE
 * is a few hundred octets (NTLM_RESPONSE_MAX bounds its largest part):
 * 16 KiB lines, as Dovecot's auth protocol takes, CRLF included.  PLAIN's
 * response (a name and a password) stays within the command limit. */
#define SASL_LINE_MAX 16384

/* A GSSAPI response carries a Kerberos AP-REQ whose ticket holds the
 * client's Windows PAC, which grows with the groups the user is in:
 * Windows bounds it by MaxTokenSize, 48,000 octets since Windows 8 (12,000
 * before), so 64,000 octets of base64, and the line its CRLF.  The input
 * buffer holds one such line. */
#define GSSAPI_TOKEN_MAX 48000
#define GSSAPI_LINE_MAX (GSSAPI_TOKEN_MAX / 3 * 4 + 2)

/* Our own challenges (an NTLM CHALLENGE, a Kerberos AP-REP, a wrapped
 * security layer offer) are a few hundred octets; this bounds them. */
#define SASL_CHALLENGE_MAX 4096

/* GSSAPI's acceptor runs in a helper process, given the service keys of
 * the keytab's pop/ principals: a host has one per encryption type (three
 * or four) and key version (two while a key is being changed), for each of
 * its names; 64 is room for a dozen names.  A key is at most 32 octets
 * (AES-256, Camellia-256); a principal name (pop/ and a DNS name of 255
 * octets, a realm) fits 512. */
#define GSSAPI_KEYS_MAX 64
#define GSSAPI_KEY_MAX 64
#define GSSAPI_PRINCIPAL_MAX 512

/* A SASL GSSAPI exchange takes at most this many client responses: a
 * Kerberos context completes in one token, then come the empty response
 * after our AP-REP and the security layer choice; more is a client going
 * round in circles. */
#define GSSAPI_STEPS_MAX 8

/* NTLM: the longest password the NT hash tool takes (Windows allows 256
 * characters, up to 1024 octets in UTF-8); the longest UTF-16LE domain an
 * AUTHENTICATE message may carry (a DNS domain name is at most 255
 * characters); the longest NTLMv2 response (NTProofStr and the client's
 * blob, which echoes our target info and adds a few AV pairs: real ones are
 * a few hundred octets). */
#define NTLM_PASSWORD_MAX 1024
#define NTLM_DOMAIN_MAX (2 * 255)
#define NTLM_RESPONSE_MAX 2048

/* uidl_migrate_format: Dovecot's pop3_uidl_format as a site had it; the formats Dovecot
 * documents are under 20 characters, and what one expands to must fit UIDL_EXPANDED_MAX. */
#define UIDL_FORMAT_MAX 255

/* ntlm_domain and krb5_realm: a DNS name is at most 255 octets, and an
 * NTLM domain travels in a target info AV pair as UTF-16LE. */
#define DOMAIN_NAME_MAX 255

/* Longest path a setting takes (passwd_file, the maildir template, privsep_dir, keytab): far
 * longer than any real one, and every session keeps its configuration for its whole life: at
 * PATH_MAX the four fields made it 17 KiB of each idle session's memory. */
#define CONFIG_PATH_MAX 1024

/* expire_days is at most a century: longer is "never", which says so. */
#define EXPIRE_DAYS_MAX 36500

/* Where pop3-handler looks for its files by default: the FHS places of a
 * daemon's configuration; the Maildir in the user's home, as Dovecot's and
 * Courier's default. */
#define CONFIG_FILE_DEFAULT "/etc/pop3-handler.conf"
#define PASSWD_FILE_DEFAULT "/etc/pop3-handler/passwd"
#define MAILDIR_DEFAULT "%h/Maildir"

/* Privilege separation: the child before login runs as nobody, the user
 * that owns nothing, chrooted to /var/empty, the empty directory OpenSSH
 * uses for the same purpose. */
#define PRIVSEP_USER_DEFAULT "nobody"
#define PRIVSEP_DIR_DEFAULT "/var/empty"

/* passwd_file = pam: the PAM service is the program's name, /etc/pam.d/pop3-handler (as
 * Dovecot's is "dovecot"); without that file PAM uses its "other" service. */
#define PAM_SERVICE_DEFAULT "pop3-handler"

/* An unknown user is checked against a hash of the setting (method and cost) most used in its
 * user database.  A site has one or two (the method it used to write and the one it writes
 * now), a few more in a migration: 16 distinct settings are counted, later new ones are not.
 * A setting is short ("$6$rounds=5000$" is 15 octets, yescrypt's with every parameter some
 * 20): one of 64 octets or more is not a setting libxcrypt writes, and is not counted. */
#define SETTING_TALLY_ROWS 16
#define HASH_SETTING_MAX 64

/* passwd_file = system: the setting most used among the first 10,000 shadow entries
 * decides, read once per process.  A host's own /etc/shadow is far shorter; the bound keeps
 * a shadow map that NSS enumerates from a directory (LDAP, SSSD) from being read whole. */
#define SHADOW_TALLY_MAX 10000

/* passwd_file = pam: pam_unix answers an unknown user at once, but checks a known user's
 * password with two hashes of its method (Linux-PAM 1.5 on Debian 12: two crypt_r calls per
 * pam_authenticate, 68 ms against 34 ms for one yescrypt hash).  An unknown user gets as
 * many hashes of the setting most used in the shadow entries (SHADOW_TALLY_MAX), which
 * pam_unix checks, so its answer takes as long. */
#define PAM_UNKNOWN_USER_HASHES 2

/* GSSAPI: the system keytab, where kadmin's ktadd puts service keys. */
#define KEYTAB_DEFAULT "/etc/krb5.keytab"

/* After the inactivity timer fires, SIGALRM repeats at this interval so that
 * a signal landing just before a blocking call cannot be missed. */
#define TIMER_REPEAT_SECONDS 1

/* malloc serves blocks of this size and larger that the heap's free top cannot hold with mmap()
 * of their own, given back to the kernel when freed: the scan's arrays, which grow with the
 * mailbox, then leave no pages in the heap of a session that idles for minutes.  A block the
 * heap's top can hold comes from the heap (crypt(3)'s data, often the UID list's write block):
 * malloc_trim() once the mailbox is open gives those pages back (mailbox.c).  16 KiB: the
 * snapshot's arrays of a mailbox of a few hundred messages and more; smaller blocks stay in the
 * heap, where malloc is faster. */
#define MALLOC_MMAP_THRESHOLD (16 * 1024)

/* Once its mailbox is open, a session gives back at most this many pages of its stack below its
 * frame (start-up read the configuration and the login ran deeper): 256 KiB of 4 KiB pages, far
 * beyond the deepest start-up goes (some 40 KiB).  stack_trim() finds where the stack's mapping
 * ends among them by halving, with a buffer of this many octets for mincore(). */
#define STACK_TRIM_PAGES 64

#endif
