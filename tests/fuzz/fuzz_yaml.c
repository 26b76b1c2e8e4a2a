// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the YAML loader: model_load() on arbitrary bytes,
 * then model_validate() and the compiler on whatever loaded (the compiler
 * must survive any configuration the validator lets through, and also
 * dangling references), then everything freed.
 * ASan/UBSan catch memory errors; LeakSanitizer catches leaks on every
 * path, including the error paths.
 *
 *   make fuzz FUZZ_SECS=60        (tests/fuzz/run.sh does the running)
 */
#include <stddef.h>
#include <stdint.h>

#include "compile.h"
#include "load.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct validate_opts opts = { .allow_unresolved = false };
	struct objvec ov = { 0 };
	struct diags d = { 0 };

	if (!model_load("fuzz.yaml", (const char *)data, size, &ov, &d)) {
		model_validate(&ov, &opts, &d);
		opts.allow_unresolved = true;
		if (!model_validate(&ov, &opts, &d)) {
			struct image img;

			for (size_t i = 0; i < ov.n; i++)
				ov.v[i]->seq = i;
			if (!compile_image(&ov, &img))
				image_free(&img);
		}
	}
	objvec_free(&ov);
	diags_free(&d);
	return 0;
}
