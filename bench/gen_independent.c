/* gen_independent.c — writes an N-task bag of independent tasks as a native trace CSV
 * (id,submit,flops) on stdout, for the replay benchmark. Usage:
 *   gen_independent N SEED [MEAN_FLOPS]
 * Every task is submitted at time 0; its work is MEAN_FLOPS (default 4e9) times a
 * factor drawn uniformly from [0.5, 1.5) with xorshift64*, so the same N and SEED give
 * the same file on every machine. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* xorshift64* (Vigna, "An experimental exploration of Marsaglia's xorshift
 * generators, scrambled", ACM TOMS 42(4), 2016): small, fast, and deterministic. */
static uint64_t next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || *end || errno || *s == '-')
		return -EINVAL;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t n, seed;
	double mean = 4e9;
	char *end = NULL;
	if (argc < 3 || argc > 4 || parse_u64(argv[1], &n) < 0 || parse_u64(argv[2], &seed) < 0 ||
	    (argc == 4 && (mean = strtod(argv[3], &end), *end || !(mean > 0)))) {
		fprintf(stderr, "usage: gen_independent N SEED [MEAN_FLOPS]\n");
		return 2;
	}
	/* Seed through one round of splitmix64 (Steele, Lea and Flood, OOPSLA 2014): a
	 * small seed would otherwise give poorly mixed first draws, and a zero state
	 * would stay zero. */
	uint64_t s = seed + 0x9E3779B97F4A7C15ULL;
	s = (s ^ (s >> 30)) * 0xBF58476D1CE4E5B9ULL;
	s = (s ^ (s >> 27)) * 0x94D049BB133111EBULL;
	s ^= s >> 31;
	if (!s)
		s = 1;
	static char buf[1 << 16];
	setvbuf(stdout, buf, _IOFBF, sizeof(buf));
	printf("id,submit,flops\n");
	for (uint64_t i = 0; i < n; i++) {
		/* Top 53 bits give a uniform double in [0, 1). */
		double u = (double)(next(&s) >> 11) * (1.0 / 9007199254740992.0);
		printf("t%" PRIu64 ",0,%.17g\n", i, mean * (0.5 + u));
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
