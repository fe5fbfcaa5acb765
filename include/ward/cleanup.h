/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Scope-bound cleanup: each resource has one owning variable declared with
 * a cleanup attribute; ownership moves with WARD_TAKE_PTR / WARD_TAKE_FD. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WARD_CLEANUP(fn) __attribute__((cleanup(fn)))

static inline void ward_freep(void *p)
{
	free(*(void **)p);
}

static inline void ward_closep(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
}

static inline void ward_fclosep(FILE **f)
{
	if (*f)
		(void)fclose(*f);
}

#define WARD_AUTOFREE WARD_CLEANUP(ward_freep)
#define WARD_AUTOCLOSE WARD_CLEANUP(ward_closep)
#define WARD_AUTOFCLOSE WARD_CLEANUP(ward_fclosep)

#define WARD_TAKE_PTR(p)                                                                           \
	({                                                                                         \
		__typeof__(p) _t = (p);                                                            \
		(p) = NULL;                                                                        \
		_t;                                                                                \
	})
#define WARD_TAKE_FD(fd)                                                                           \
	({                                                                                         \
		int _t = (fd);                                                                     \
		(fd) = -1;                                                                         \
		_t;                                                                                \
	})

/* One line per foreign type, in the module that owns that library. */
#define WARD_DEFINE_FREEP(type, fn)                                                                \
	static inline void fn##p(type **p)                                                         \
	{                                                                                          \
		if (*p)                                                                            \
			fn(*p);                                                                    \
	}

/* Wipe memory so the compiler cannot elide it (explicit_bzero). */
static inline void ward_wipe(void *p, size_t size)
{
	if (p && size)
		explicit_bzero(p, size);
}

struct ward_erase_ {
	void *p;
	size_t size;
};
static inline void ward_erasep_(struct ward_erase_ *e)
{
	ward_wipe(e->p, e->size);
}
#define WARD_CONCAT_(a, b) a##b
#define WARD_CONCAT(a, b) WARD_CONCAT_(a, b)
/* Wipe a stack object (array or struct) on every exit from the scope. */
#define WARD_CLEANUP_ERASE(var)                                                                    \
	WARD_CLEANUP(ward_erasep_)                                                                 \
	__attribute__((unused)) struct ward_erase_ WARD_CONCAT(ward_erase_, __COUNTER__) = {      \
		&(var), sizeof(var)}
