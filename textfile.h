/*
 * textfile.h - reading the configuration and the passwd file: regular
 * files only, line by line, with over-long lines and lines holding a NUL
 * octet refused whole.
 */
#ifndef POP3_TEXTFILE_H
#define POP3_TEXTFILE_H

#include <stddef.h>
#include <stdio.h>

/* Opens path for reading if it is a regular file, without blocking on a FIFO or device;
 * NULL with errno (EINVAL for another file type) otherwise. */
FILE *fopen_regular(const char *path);

enum file_line_status {
	FILE_LINE_OK,
	FILE_LINE_TOO_LONG,	/* the line was longer than the buffer; it was skipped */
	FILE_LINE_NUL,		/* the line holds a NUL octet; it was skipped */
	FILE_LINE_EOF,
	FILE_LINE_ERROR,
};

/* Reads one line into buf without its newline (nor a CR before it), skipping over-long
 * lines and lines with NUL octets whole. */
enum file_line_status file_line_read(FILE *f, char *buf, size_t size);

#endif
