/* SPDX-License-Identifier: Apache-2.0 */
#include "ward/encoding.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

static const char hexdigits[] = "0123456789abcdef";
static const char b64std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Upper bound for inputs, so size arithmetic below cannot overflow. */
#define ENCODING_MAX_INPUT (SIZE_MAX / 4 - 4)

void ward_hex_encode(const void *in, size_t size, char *out)
{
	const uint8_t *p = in;

	for (size_t i = 0; i < size; i++) {
		out[2 * i] = hexdigits[p[i] >> 4];
		out[2 * i + 1] = hexdigits[p[i] & 15];
	}
	out[2 * size] = '\0';
}

static void b64_encode(const char *alphabet, bool pad, const uint8_t *p, size_t size, char *out)
{
	size_t o = 0, i = 0;

	for (; i + 3 <= size; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (size - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (size - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
}

void ward_base64_encode(const void *in, size_t size, char *out)
{
	b64_encode(b64std, true, in, size, out);
}

void ward_base64url_encode(const void *in, size_t size, char *out)
{
	b64_encode(b64url, false, in, size, out);
}

static char *alloc_encode(void (*enc)(const void *, size_t, char *), size_t out_size,
			  const void *in, size_t size)
{
	char *out;

	if (size > ENCODING_MAX_INPUT)
		return NULL;
	out = malloc(out_size + 1);
	if (out)
		enc(in, size, out);
	return out;
}

char *ward_hex_encode_alloc(const void *in, size_t size)
{
	return alloc_encode(ward_hex_encode, size <= ENCODING_MAX_INPUT ? ward_hex_size(size) : 0,
			    in, size);
}

char *ward_base64_encode_alloc(const void *in, size_t size)
{
	return alloc_encode(ward_base64_encode,
			    size <= ENCODING_MAX_INPUT ? ward_base64_size(size) : 0, in, size);
}

char *ward_base64url_encode_alloc(const void *in, size_t size)
{
	return alloc_encode(ward_base64url_encode,
			    size <= ENCODING_MAX_INPUT ? ward_base64url_size(size) : 0, in, size);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int hex_into(const char *in, size_t in_size, uint8_t *out, struct ward_err *err)
{
	for (size_t i = 0; i < in_size; i += 2) {
		int hi = hexval(in[i]), lo = hexval(in[i + 1]);
		if (hi < 0 || lo < 0)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "hex: invalid character at offset %zu",
					    hi < 0 ? i : i + 1);
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int ward_hex_decode(const char *in, size_t in_size, uint8_t **ret, size_t *ret_size,
		    struct ward_err *err)
{
	uint8_t *out;
	int r;

	if (in_size % 2)
		return ward_err_set(err, -WARD_E_MALFORMED, "hex: odd length %zu", in_size);
	if (in_size > ENCODING_MAX_INPUT)
		return ward_err_set(err, -WARD_E_TOO_BIG, "hex: input too large");
	out = malloc(in_size / 2 + 1);
	if (!out)
		return ward_err_set(err, -ENOMEM, "hex: out of memory");
	r = hex_into(in, in_size, out, err);
	if (r < 0) {
		free(out);
		return r;
	}
	out[in_size / 2] = 0;
	*ret = out;
	*ret_size = in_size / 2;
	return 0;
}

int ward_hex_decode_fixed(const char *in, size_t in_size, uint8_t *out, size_t out_size,
			  struct ward_err *err)
{
	if (out_size > ENCODING_MAX_INPUT || in_size != 2 * out_size)
		return ward_err_set(err, -WARD_E_MALFORMED, "hex: expected %zu digits, got %zu",
				    2 * out_size, in_size);
	return hex_into(in, in_size, out, err);
}

static int b64val(const char *alphabet, char c)
{
	for (int i = 0; i < 64; i++)
		if (alphabet[i] == c)
			return i;
	return -1;
}

/* Strict decoder for both alphabets. With pad, the length must be a
 * multiple of 4 with 0-2 '=' at the end; without, '=' is rejected and a
 * length of 1 mod 4 is impossible. Unused low bits of the last symbol must
 * be zero, so every byte string has exactly one accepted encoding. */
static int b64_decode(const char *alphabet, bool pad, const char *name, const char *in,
		      size_t in_size, uint8_t **ret, size_t *ret_size, struct ward_err *err)
{
	size_t n = in_size, o = 0, npad = 0, out_size;
	uint32_t acc = 0;
	int bits = 0;
	uint8_t *out;

	if (in_size > ENCODING_MAX_INPUT)
		return ward_err_set(err, -WARD_E_TOO_BIG, "%s: input too large", name);
	if (pad) {
		if (n % 4)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s: length %zu is not a multiple of 4", name, n);
		while (npad < 2 && n > 0 && in[n - 1] == '=') {
			n--;
			npad++;
		}
	}
	if (n % 4 == 1)
		return ward_err_set(err, -WARD_E_MALFORMED, "%s: impossible length %zu", name,
				    in_size);
	out_size = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
	out = malloc(out_size + 1);
	if (!out)
		return ward_err_set(err, -ENOMEM, "%s: out of memory", name);
	for (size_t i = 0; i < n; i++) {
		int v = b64val(alphabet, in[i]);
		if (v < 0) {
			free(out);
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s: invalid character at offset %zu", name, i);
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0) {
		free(out);
		return ward_err_set(err, -WARD_E_MALFORMED, "%s: non-zero trailing bits", name);
	}
	out[o] = 0;
	*ret = out;
	*ret_size = o;
	return 0;
}

int ward_base64_decode(const char *in, size_t in_size, uint8_t **ret, size_t *ret_size,
		       struct ward_err *err)
{
	return b64_decode(b64std, true, "base64", in, in_size, ret, ret_size, err);
}

int ward_base64url_decode(const char *in, size_t in_size, uint8_t **ret, size_t *ret_size,
			  struct ward_err *err)
{
	return b64_decode(b64url, false, "base64url", in, in_size, ret, ret_size, err);
}
