/*
 * An LD_PRELOAD library that moves one process's wall clock, not its monotonic clock: what a
 * Raspberry Pi without a real-time clock sees when NTP sets its time long after boot.
 *
 * CLOCKSHIFT_FILE names a file holding a signed number of seconds added to CLOCK_REALTIME
 * (clock_gettime, gettimeofday, time). The file is read again at most every 10 ms of
 * monotonic time, so a test moves the clock by rewriting it. CLOCK_MONOTONIC and
 * CLOCK_BOOTTIME are left alone. Built by tests/faults/test_clock_jump.py with gcc.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static clock_gettime_fn real_clock_gettime;
static long long offset_s;
static long long next_read_ns;

static long long monotonic_ns(void) {
    struct timespec now;
    real_clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static void refresh(void) {
    if (real_clock_gettime == NULL) {
        real_clock_gettime = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
    }
    long long now = monotonic_ns();
    if (now < next_read_ns) {
        return;
    }
    next_read_ns = now + 10000000LL;
    const char *path = getenv("CLOCKSHIFT_FILE");
    if (path == NULL) {
        return;
    }
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        return;
    }
    long long value;
    if (fscanf(file, "%lld", &value) == 1) {
        offset_s = value;
    }
    fclose(file);
}

int clock_gettime(clockid_t clock, struct timespec *ts) {
    refresh();
    int result = real_clock_gettime(clock, ts);
    if (result == 0 && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) {
        ts->tv_sec += offset_s;
    }
    return result;
}

int gettimeofday(struct timeval *tv, void *tz) {
    (void)tz;
    struct timespec now;
    int result = clock_gettime(CLOCK_REALTIME, &now);
    if (result == 0) {
        tv->tv_sec = now.tv_sec;
        tv->tv_usec = now.tv_nsec / 1000;
    }
    return result;
}

time_t time(time_t *out) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (out != NULL) {
        *out = now.tv_sec;
    }
    return now.tv_sec;
}
