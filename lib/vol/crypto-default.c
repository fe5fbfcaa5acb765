/* SPDX-License-Identifier: Apache-2.0 */
/* The volume engine's crypto table backed by lib/crypto (OpenSSL).
 *
 * Block seal/open go through keyed AES-GCM contexts (ward_aead_ctx) kept
 * in a small per-thread cache indexed by the key: keying an OpenSSL
 * context costs about a third of sealing a 4 KiB block, and a thread
 * usually works on one file (one per-file key) for many blocks in a row.
 * Per thread, so no locking and each context is used by one thread at a
 * time. The cache holds copies of up to CACHE_SLOTS keys; entries are
 * wiped when evicted and when the thread exits (a thread-specific-data
 * destructor). The main thread's entries live until the process exits —
 * the same lifetime as the volume key the process already holds. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/vol.h"

#define CACHE_SLOTS 4

struct kcache {
	struct {
		uint8_t key[32];
		struct ward_aead_ctx *ctx; /* owned; NULL: slot free */
		uint64_t used;
	} e[CACHE_SLOTS];
	uint64_t tick;
};

static pthread_key_t g_kcache_key;
static pthread_once_t g_kcache_once = PTHREAD_ONCE_INIT;
static bool g_kcache_ok;

static void kcache_destroy(void *p)
{
	struct kcache *kc = p;

	for (size_t i = 0; i < CACHE_SLOTS; i++)
		kc->e[i].ctx = ward_aead_ctx_free(kc->e[i].ctx);
	ward_wipe(kc, sizeof(*kc));
	free(kc);
}

static void kcache_init(void)
{
	g_kcache_ok = pthread_key_create(&g_kcache_key, kcache_destroy) == 0;
}

/* The calling thread's context for key, or NULL (out of memory: the
 * caller falls back to the one-shot functions). */
static struct ward_aead_ctx *kcache_get(const uint8_t key[32])
{
	struct kcache *kc;
	size_t victim = 0;

	(void)pthread_once(&g_kcache_once, kcache_init);
	if (!g_kcache_ok)
		return NULL;
	kc = pthread_getspecific(g_kcache_key);
	if (!kc) {
		kc = calloc(1, sizeof(*kc));
		if (!kc)
			return NULL;
		if (pthread_setspecific(g_kcache_key, kc) != 0) {
			free(kc);
			return NULL;
		}
	}
	kc->tick++;
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		if (kc->e[i].ctx && ward_ct_eq(kc->e[i].key, key, 32)) {
			kc->e[i].used = kc->tick;
			return kc->e[i].ctx;
		}
		if (kc->e[i].used < kc->e[victim].used)
			victim = i;
	}
	/* Replace the least recently used slot (free slots have used 0). */
	kc->e[victim].ctx = ward_aead_ctx_free(kc->e[victim].ctx);
	ward_wipe(kc->e[victim].key, 32);
	kc->e[victim].used = 0;
	if (ward_aead_ctx_new(key, &kc->e[victim].ctx, NULL) < 0)
		return NULL;
	memcpy(kc->e[victim].key, key, 32);
	kc->e[victim].used = kc->tick;
	return kc->e[victim].ctx;
}

static int d_seal(void *ctx, const uint8_t key[32], const uint8_t nonce[12], const void *aad,
		  size_t aad_size, const void *pt, size_t size, uint8_t *ct, uint8_t tag[16])
{
	struct ward_aead_ctx *c = kcache_get(key);

	(void)ctx;
	if (c)
		return ward_aead_ctx_seal_iv(c, nonce, aad, aad_size, pt, size, ct, tag, NULL);
	return ward_aes256gcm_seal(key, nonce, 12, aad, aad_size, pt, size, ct, tag, NULL);
}

static int d_open(void *ctx, const uint8_t key[32], const uint8_t nonce[12], const void *aad,
		  size_t aad_size, const void *ct, size_t size, const uint8_t tag[16], uint8_t *pt)
{
	struct ward_aead_ctx *c = kcache_get(key);

	(void)ctx;
	if (c)
		return ward_aead_ctx_open_iv(c, nonce, aad, aad_size, ct, size, tag, pt, NULL);
	return ward_aes256gcm_open(key, nonce, 12, aad, aad_size, ct, size, tag, pt, NULL);
}

static int d_kdf(void *ctx, const uint8_t key[32], const char *label, const void *info,
		 size_t info_size, uint8_t out[32])
{
	uint8_t buf[128];
	size_t n = strlen(label);

	(void)ctx;
	if (n + 1 + info_size > sizeof(buf))
		return -WARD_E_USAGE;
	memcpy(buf, label, n);
	buf[n] = 0; /* separates label from info unambiguously */
	memcpy(buf + n + 1, info, info_size);
	return ward_hkdf(WARD_HASH_SHA256, key, 32, NULL, 0, buf, n + 1 + info_size, out, 32,
			 NULL);
}

static int d_hash(void *ctx, const void *data, size_t size, uint8_t out[32])
{
	(void)ctx;
	return ward_hash(WARD_HASH_SHA256, data, size, out, NULL);
}

static int d_random(void *ctx, void *buf, size_t size)
{
	(void)ctx;
	return ward_random(buf, size, NULL);
}

static const struct ward_vol_crypto default_crypto = {
	.ctx = NULL,
	.seal = d_seal,
	.open = d_open,
	.kdf = d_kdf,
	.hash = d_hash,
	.random = d_random,
};

const struct ward_vol_crypto *ward_vol_crypto_default(void)
{
	return &default_crypto;
}
