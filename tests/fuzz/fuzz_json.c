// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for what `ambit sync` reads: arbitrary bytes as a
 * stream of watch events (jstream, fed in two pieces split where the first
 * byte says, so partial values are exercised), every event's object
 * through model_load_json(), then the validator and the compiler on
 * whatever loaded, then everything freed. ASan/UBSan catch memory errors;
 * LeakSanitizer catches leaks on every path.
 */
#include <stddef.h>
#include <stdint.h>

#include "compile.h"
#include "jstream.h"
#include "load_json.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load_all(struct jstream *s, struct objvec *ov, struct diags *d)
{
	char why[256];
	json_t *v;

	while (jstream_next(s, &v, why, sizeof(why)) == 1) {
		model_load_json("fuzz: event", json_object_get(v, "object"), ov,
				d);
		json_decref(v);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct validate_opts opts = { .allow_unresolved = true };
	size_t split = size ? data[0] % (size + 1) : 0;
	struct jstream s = { 0 };
	struct objvec ov = { 0 };
	struct diags d = { 0 };
	struct image img;
	char why[256];

	if (!jstream_feed(&s, (const char *)data, split))
		load_all(&s, &ov, &d);
	if (!jstream_feed(&s, (const char *)data + split, size - split))
		load_all(&s, &ov, &d);
	jstream_end(&s, why, sizeof(why));
	if (!model_validate(&ov, &opts, &d)) {
		for (size_t i = 0; i < ov.n; i++)
			ov.v[i]->seq = i;
		if (!compile_image(&ov, &img))
			image_free(&img);
	}
	jstream_free(&s);
	objvec_free(&ov);
	diags_free(&d);
	return 0;
}
