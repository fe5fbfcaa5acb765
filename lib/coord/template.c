/* SPDX-License-Identifier: Apache-2.0 */
/* Secret templates in workload argv/env/files:
 *   {{ [FORM] secret.NAME[.PART] }}
 * FORM: raw (default), hex, base64, pem. PART: private, public, cert. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ward/cleanup.h"
#include "ward/encoding.h"
#include "ward/manifest.h"

#define REF_MAX 160
#define RENDER_MAX (1u << 20)

enum form { FORM_RAW, FORM_HEX, FORM_BASE64, FORM_PEM };

struct ref {
	enum form form;
	const struct ward_manifest_secret *secret;
	const char *part; /* static string or NULL */
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Parse the inside of one {{ ... }}. */
static int parse_ref(const struct ward_manifest *m, const char *in, size_t n, struct ref *ret,
		     const char *path, struct ward_err *err)
{
	static const char *const parts[] = {"private", "public", "cert"};
	char buf[REF_MAX], *tok, *sp;
	struct ref ref = {.form = FORM_RAW};
	char *dot;

	while (n && is_space(*in))
		in++, n--;
	while (n && is_space(in[n - 1]))
		n--;
	if (n == 0 || n >= sizeof(buf))
		return ward_err_set(err, -WARD_E_MALFORMED, "%s: empty or overlong template", path);
	memcpy(buf, in, n);
	buf[n] = '\0';
	tok = buf;
	sp = strpbrk(buf, " \t");
	if (sp) {
		*sp = '\0';
		if (strcmp(buf, "raw") == 0)
			ref.form = FORM_RAW;
		else if (strcmp(buf, "hex") == 0)
			ref.form = FORM_HEX;
		else if (strcmp(buf, "base64") == 0)
			ref.form = FORM_BASE64;
		else if (strcmp(buf, "pem") == 0)
			ref.form = FORM_PEM;
		else
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s: unknown template form \"%s\" (raw, hex, base64, "
					    "pem)",
					    path, buf);
		tok = sp + 1;
		while (is_space(*tok))
			tok++;
		if (strpbrk(tok, " \t"))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s: template has too many words", path);
	}
	if (strncmp(tok, "secret.", 7) != 0)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "%s: template must refer to \"secret.NAME\"", path);
	tok += 7;
	ref.secret = ward_manifest_secret(m, tok);
	if (!ref.secret) {
		dot = strrchr(tok, '.');
		if (dot) {
			*dot = '\0';
			for (size_t i = 0; i < 3; i++)
				if (strcmp(dot + 1, parts[i]) == 0)
					ref.part = parts[i];
			ref.secret = ref.part ? ward_manifest_secret(m, tok) : NULL;
		}
		if (!ref.secret)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s: template refers to unknown secret \"%s\"", path,
					    tok);
	}
	switch (ref.secret->type) {
	case WARD_SECRET_EC_P256:
	case WARD_SECRET_EC_P384:
	case WARD_SECRET_RSA:
		if (!ref.part)
			ref.part = "private";
		if (strcmp(ref.part, "cert") == 0)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s: secret \"%s\" has no certificate", path, tok);
		break;
	case WARD_SECRET_CERT:
		if (!ref.part)
			ref.part = "cert";
		break;
	default:
		if (ref.part)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s: secret \"%s\" (%s) has no parts", path, tok,
					    ward_secret_type_name(ref.secret->type));
		if (ref.form == FORM_PEM)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s: pem form needs a key or certificate", path);
	}
	*ret = ref;
	return 0;
}

/* Walk tmpl; for each reference call fn (if non-NULL) to append output. */
static int walk(const struct ward_manifest *m, const char *tmpl, const char *path,
		int (*emit)(void *ctx, const void *p, size_t n, const struct ref *ref,
			    struct ward_err *err),
		void *ctx, struct ward_err *err)
{
	const char *p = tmpl;
	int r;

	for (;;) {
		const char *open = strstr(p, "{{"), *close;
		struct ref ref;

		if (!open) {
			return emit ? emit(ctx, p, strlen(p), NULL, err) : 0;
		}
		if (emit) {
			r = emit(ctx, p, (size_t)(open - p), NULL, err);
			if (r < 0)
				return r;
		}
		close = strstr(open + 2, "}}");
		if (!close)
			return ward_err_set(err, -WARD_E_MALFORMED, "%s: unterminated \"{{\"",
					    path);
		r = parse_ref(m, open + 2, (size_t)(close - open - 2), &ref, path, err);
		if (r < 0)
			return r;
		if (emit) {
			r = emit(ctx, NULL, 0, &ref, err);
			if (r < 0)
				return r;
		}
		p = close + 2;
	}
}

int ward_template_check(const struct ward_manifest *m, const char *tmpl, const char *path,
			struct ward_err *err)
{
	return walk(m, tmpl, path, NULL, NULL, err);
}

struct render {
	uint8_t *buf;
	size_t len, cap;
	ward_template_resolve_fn fn;
	void *ud;
};

static int append(struct render *rd, const void *p, size_t n, struct ward_err *err)
{
	if (rd->len + n + 1 > RENDER_MAX)
		return ward_err_set(err, -WARD_E_TOO_BIG, "template output over %u bytes",
				    RENDER_MAX);
	if (rd->len + n + 1 > rd->cap) {
		size_t cap = (rd->len + n + 1) * 2;
		uint8_t *nb = malloc(cap);

		if (!nb)
			return ward_err_set(err, -ENOMEM, "template: out of memory");
		if (rd->buf) {
			memcpy(nb, rd->buf, rd->len);
			ward_wipe(rd->buf, rd->cap);
			free(rd->buf);
		}
		rd->buf = nb;
		rd->cap = cap;
	}
	memcpy(rd->buf + rd->len, p, n);
	rd->len += n;
	rd->buf[rd->len] = 0;
	return 0;
}

static int emit_render(void *ctx, const void *p, size_t n, const struct ref *ref,
		       struct ward_err *err)
{
	struct render *rd = ctx;
	WARD_AUTOFREE uint8_t *val = NULL;
	WARD_AUTOFREE char *enc = NULL;
	size_t size = 0;
	int r;

	if (!ref)
		return append(rd, p, n, err);
	r = rd->fn(rd->ud, ref->secret, ref->part, &val, &size, err);
	if (r < 0)
		return r;
	switch (ref->form) {
	case FORM_HEX:
		enc = ward_hex_encode_alloc(val, size);
		break;
	case FORM_BASE64:
		enc = ward_base64_encode_alloc(val, size);
		break;
	default:
		r = append(rd, val, size, err);
		ward_wipe(val, size);
		return r;
	}
	ward_wipe(val, size);
	if (!enc)
		return ward_err_set(err, -ENOMEM, "template: out of memory");
	r = append(rd, enc, strlen(enc), err);
	ward_wipe(enc, strlen(enc));
	return r;
}

int ward_template_render(const struct ward_manifest *m, const char *tmpl,
			 ward_template_resolve_fn fn, void *ud, struct ward_secret **ret,
			 struct ward_err *err)
{
	struct render rd = {.fn = fn, .ud = ud};
	struct ward_secret *s;
	int r;

	r = append(&rd, "", 0, err);
	if (r >= 0)
		r = walk(m, tmpl, "template", emit_render, &rd, err);
	if (r >= 0) {
		s = ward_secret_dup(rd.buf, rd.len);
		if (!s)
			r = ward_err_set(err, -ENOMEM, "template: out of memory");
		else
			*ret = s;
	}
	if (rd.buf) {
		ward_wipe(rd.buf, rd.cap);
		free(rd.buf);
	}
	return r;
}
