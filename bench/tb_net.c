/**
 * @file tb_net.c  turnbench helpers: bounded blocking TCP, the clock,
 * and what /proc says about the server under test (CPU, memory, fds).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "turnbench.h"


/** Monotonic time in seconds */
double tb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


/* Every blocking call on fd gives up after TB_IO_TIMEOUT_MS */
static void set_timeouts(int fd)
{
	struct timeval tv = {TB_IO_TIMEOUT_MS / 1000, 0};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}


/**
 * Blocking TCP connect with TCP_NODELAY and bounded I/O
 *
 * @return 0 or an errno value
 */
int tb_tcp_connect(int *fdp, const struct sw_sa *dst)
{
	int fd, one = 1, err = 0;

	fd = socket(sw_sa_af(dst), SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	set_timeouts(fd);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, &dst->u.sa, sw_sa_len(dst))) {
		err = errno == EINPROGRESS ? ETIMEDOUT : errno;
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}


/** Listening TCP socket on local (SO_REUSEADDR) */
int tb_tcp_listen(int *fdp, const struct sw_sa *local, int backlog)
{
	int fd, one = 1, err;

	fd = socket(sw_sa_af(local), SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, &local->u.sa, sw_sa_len(local)) ||
	    listen(fd, backlog)) {
		err = errno;
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}


/** accept() that waits at most timeout_ms */
int tb_accept(int lfd, int *fdp, int timeout_ms)
{
	struct pollfd pfd = {lfd, POLLIN, 0};
	int fd, one = 1;

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return ETIMEDOUT;
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return errno;
	set_timeouts(fd);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*fdp = fd;
	return 0;
}


/**
 * Read exactly n bytes
 *
 * @return 0, ECONNRESET on EOF, ETIMEDOUT, or another errno value
 */
int tb_read_full(int fd, void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n) {
		ssize_t r = read(fd, p, n);

		if (r == 0)
			return ECONNRESET;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? ETIMEDOUT : errno;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}


/** Write exactly n bytes */
int tb_write_full(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? ETIMEDOUT : errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}


int tb_local_port(int fd, uint16_t *port)
{
	struct sw_sa sa;
	socklen_t len = sizeof(sa.u);

	if (getsockname(fd, &sa.u.sa, &len))
		return errno;
	*port = sw_sa_port(&sa);
	return 0;
}


/* Root may raise the hard limit too; anyone may raise the soft one */
void tb_raise_nofile(unsigned want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want;
	if (rl.rlim_max < want)
		rl.rlim_max = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) && !getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}


/* Transaction ids need to be unique, not secret */
void tb_random(void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n) {
		ssize_t r = getrandom(p, n, 0);

		if (r <= 0)
			abort();
		p += r;
		n -= (size_t)r;
	}
}


/*
 * Nanosecond CPU time of every live thread (/proc/PID/task/TID/schedstat,
 * first field); -1 if unavailable
 */
static double proc_cpu_ns(int pid)
{
	char path[64], buf[320];
	unsigned long long ns, sum = 0;
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(buf, sizeof(buf), "/proc/%d/task/%s/schedstat", pid,
			 de->d_name);
		f = fopen(buf, "re");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &ns) == 1)
			sum += ns;
		fclose(f);
	}
	closedir(d);
	return sum ? (double)sum / 1e9 : -1;
}


/**
 * CPU seconds of a whole process (all threads): from schedstat with ns
 * resolution when the kernel has it, else utime + stime in clock ticks;
 * -1 if the process is gone
 */
double tb_proc_cpu(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	ssize_t n;
	int fd;

	double ns;

	if (pid <= 0)
		return -1;
	ns = proc_cpu_ns(pid);
	if (ns >= 0)
		return ns;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields follow the last ')' */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
				"%lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}


/* "Field:   1234 kB" from a /proc/PID file; -1 if absent */
static long proc_kb(int pid, const char *file, const char *field)
{
	char path[64], line[256];
	size_t fl = strlen(field);
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, fl) && line[fl] == ':') {
			kb = strtol(line + fl + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}


/** A kB field of /proc/PID/status, e.g. "VmRSS"; -1 if unknown */
long tb_proc_status_kb(int pid, const char *field)
{
	return pid > 0 ? proc_kb(pid, "status", field) : -1;
}


/** Private_Clean + Private_Dirty of /proc/PID/smaps_rollup, kB */
long tb_proc_private_kb(int pid)
{
	long c, d;

	if (pid <= 0)
		return -1;
	c = proc_kb(pid, "smaps_rollup", "Private_Clean");
	d = proc_kb(pid, "smaps_rollup", "Private_Dirty");
	return c < 0 || d < 0 ? -1 : c + d;
}


/** Open file descriptors of a process; -1 if unknown */
long tb_proc_fds(int pid)
{
	char path[64];
	struct dirent *de;
	long n = 0;
	DIR *d;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}


/** The soft open-file limit of a process (/proc/PID/limits); -1 */
long tb_proc_limit_nofile(int pid)
{
	static const char key[] = "Max open files";
	char path[64], line[256];
	long v = -1;
	FILE *f;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/limits", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, sizeof(key) - 1)) {
			v = strtol(line + sizeof(key) - 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}


static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}


/**
 * Percentile by the nearest-rank method; sorts v in place
 *
 * @param p  0 < p <= 1 (0.5 = median, 0.99 = p99)
 */
double tb_pctl(double *v, size_t n, double p)
{
	size_t rank;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	rank = (size_t)ceil(p * (double)n);
	return v[rank ? rank - 1 : 0];
}


/** "64K", "1M", "16G" or a plain number, 1..max */
int tb_parse_size(const char *s, uint64_t max, uint64_t *v)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || end == s)
		return EINVAL;
	switch (*end) {
	case 'G': n <<= 30; ++end; break;
	case 'M': n <<= 20; ++end; break;
	case 'K': n <<= 10; ++end; break;
	default: break;
	}
	if (*end || !n || n > max)
		return EINVAL;
	*v = n;
	return 0;
}


int tb_parse_uint(const char *s, unsigned max, unsigned *v)
{
	uint64_t n;

	if (tb_parse_size(s, max, &n))
		return EINVAL;
	*v = (unsigned)n;
	return 0;
}


static const char *alarm_msg;

static void on_alarm(int sig)
{
	(void)sig;
	(void)!write(STDERR_FILENO, alarm_msg, strlen(alarm_msg));
	_exit(3);
}


/** A last-resort deadline: msg on stderr and exit 3 after secs seconds */
void tb_alarm(const char *msg, unsigned secs)
{
	alarm_msg = msg;
	signal(SIGALRM, on_alarm);
	alarm(secs);
}
