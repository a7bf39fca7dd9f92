// SPDX-License-Identifier: GPL-2.0-or-later
// cset-threads N: one process with N extra threads that only sleep, each
// on a 16 KiB stack, so 10,000 of them fit in the benchmark guest's 2 GiB
// (bench/cset.sh, tests/vm/scenarios/bench-cset.sh). Prints "ready N"
// once all exist, then sleeps until killed.
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 0;
	pthread_attr_t attr;
	size_t stack = 16384;

	if (stack < PTHREAD_STACK_MIN)
		stack = PTHREAD_STACK_MIN;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, stack);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (long i = 0; i < n; i++) {
		pthread_t t;
		int e = pthread_create(&t, &attr, sleeper, NULL);
		if (e) {
			fprintf(stderr, "cset-threads: thread %ld: %s\n", i, strerror(e));
			return 1;
		}
	}
	printf("ready %ld\n", n);
	fflush(stdout);
	for (;;)
		pause();
}
