/*
 * spawn.c - the benchmark's process launcher (bench/run compiles it).
 *
 *     spawn OUT PROGRAM [ARG]...
 *
 * Runs PROGRAM with the launcher's stdin, stderr, environment and working
 * directory, its stdout a pipe into `cat > OUT` (a client reading the
 * replies), and prints on stdout "<nanoseconds> <max RSS KiB> <status>":
 * the wall time (CLOCK_MONOTONIC) from just before the first fork to the
 * exit of both processes, ru_maxrss of PROGRAM from wait4(), and its exit
 * status (128 + signal when killed; cat's failure makes it 255).
 *
 * Why not Python's subprocess: ru_maxrss survives exec(), so a child forked
 * from a 30 MB Python reports at least 30 MB; forked from this small
 * process, the floor is about 1 MB (shown by the benchmark as /bin/true's).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(254);
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru, cat_ru;
	int p[2], out, status, cat_status;
	pid_t cat, child;

	if (argc < 3) {
		fprintf(stderr, "usage: spawn OUT PROGRAM [ARG]...\n");
		return 2;
	}
	out = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		die(argv[1]);
	if (pipe2(p, O_CLOEXEC) != 0)
		die("pipe");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cat = fork();
	if (cat < 0)
		die("fork");
	if (cat == 0) {
		if (dup2(p[0], 0) < 0 || dup2(out, 1) < 0)
			_exit(254);
		execlp("cat", "cat", (char *)NULL);
		_exit(254);
	}
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		if (dup2(p[1], 1) < 0)
			_exit(254);
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	close(p[0]);
	close(p[1]);
	close(out);
	if (wait4(child, &status, 0, &ru) != child || wait4(cat, &cat_status, 0, &cat_ru) != cat)
		die("wait4");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%lld %ld %d\n",
	       (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec),
	       ru.ru_maxrss, exit_code(cat_status) != 0 ? 255 : exit_code(status));
	return 0;
}
