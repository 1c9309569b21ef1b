/* sb_file: what a parser child does with the one sample it was handed.
 * sb_parse.c is the real one (sha256, PE sniff, LIEF, ergo486);
 * sb_hostile.c, built only into the test program pefleet-sandbox-hostile,
 * attacks the sandbox instead (tests/integration/sandbox_hostile.sh). */
#ifndef SB_FILE_H
#define SB_FILE_H

#include <stddef.h>
#include <stdint.h>

#define SB_RES_FD 3

/* Sends one pf_wire frame on the result pipe (exits if the parent is gone). */
void sb_send(uint32_t type, uint64_t id, const void *payload, size_t n);
void sb_send_err(uint64_t id, int32_t code, const char *msg);

/* Handles the sample: fd is a memfd holding its bytes (pf_encoder copied
 * them there), mapped read-only for hashing and the feature rules and
 * opened by LIEF as /proc/self/fd/fd (a memfd has no path Landlock could
 * refuse; every other file is refused). Sends VEC or ERR (the daemon
 * hashed the bytes itself). */
void sb_handle_file(uint64_t id, int fd, uint64_t max_size);

/* The real parse (sb_parse.c); sb_handle.c makes it sb_handle_file, and
 * the hostile build calls it for files that carry no attack. */
void sb_parse_file(uint64_t id, int fd, uint64_t max_size);

#endif
