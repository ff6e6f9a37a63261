/* SPDX-License-Identifier: MIT */
/*
 * Replays a fuzz target's inputs without libFuzzer (any compiler): every
 * file in the directories given (its seed corpus and its crash regressions)
 * goes through LLVMFuzzerTestOneInput once. Used by the unit suite, so each
 * input that once crashed stays fixed; under build-asan with the sanitizers.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int files = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		struct dirent *e;

		if (!d) /* a directory that does not exist yet: nothing to replay */
			continue;
		while ((e = readdir(d))) {
			char p[4096];
			struct stat st;

			snprintf(p, sizeof(p), "%s/%s", argv[i], e->d_name);
			if (e->d_name[0] == '.' || stat(p, &st) || !S_ISREG(st.st_mode))
				continue;
			if (run_file(p)) {
				fprintf(stderr, "cannot read %s\n", p);
				closedir(d);
				return 1;
			}
			files++;
		}
		closedir(d);
	}
	printf("%d inputs replayed\n", files);
	return files ? 0 : 1;
}
