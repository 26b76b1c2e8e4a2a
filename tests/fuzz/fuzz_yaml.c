// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the YAML loader: model_load() on arbitrary bytes,
 * then model_validate() on whatever loaded, then everything freed.
 * ASan/UBSan catch memory errors; LeakSanitizer catches leaks on every
 * path, including the error paths.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -Iuser/lib user/lib/{arena,diag,objvec,model,rx,ytree,load,load_util,\
 *     load_check,load_service,load_route,load_filter,validate}.c \
 *     tests/fuzz/fuzz_yaml.c -lyaml -lpcre2-8 -o fuzz_yaml
 *   ./fuzz_yaml -max_len=65536 tests/fuzz/corpus/yaml
 */
#include <stddef.h>
#include <stdint.h>

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
		model_validate(&ov, &opts, &d);
	}
	objvec_free(&ov);
	diags_free(&d);
	return 0;
}
