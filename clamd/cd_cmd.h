/* cd_cmd: owns the grammar of clamd's command lines (clamd(8)).
 * Defines cd_cmd and cd_cmd_parse(): the first command in a byte buffer,
 * with its prefix ('z': NUL-terminated, 'n': newline-terminated, none: the
 * old style, one packet one command), its kind and its argument. Takes
 * bytes and a length and never touches a socket (tests/fuzz/fuzz_clamdcmd.c).
 * Called by cd_conn.c. */
#ifndef CD_CMD_H
#define CD_CMD_H

#include <stddef.h>
#include <stdint.h>

/* The longest command line accepted, terminator included (a path of
 * PATH_MAX bytes and the longest command name). */
#define CD_CMD_MAX 4200

typedef enum {
  CD_UNKNOWN = 0,
  CD_PING,
  CD_VERSION,
  CD_VERSIONCOMMANDS,
  CD_STATS,
  CD_RELOAD,
  CD_SHUTDOWN,
  CD_SCAN,
  CD_CONTSCAN,
  CD_MULTISCAN,
  CD_ALLMATCHSCAN,
  CD_INSTREAM,
  CD_FILDES,
  CD_IDSESSION,
  CD_END,
} cd_kind;

typedef struct {
  cd_kind kind;
  char term;         /* the reply terminator: '\0' for z, '\n' otherwise */
  int oldstyle;      /* sent without a z or n prefix */
  const char *arg;   /* points into the buffer (not terminated); NULL when none */
  size_t arglen;
  const char *name;  /* the command's name as clamd spells it, for logs ("?" unknown) */
} cd_cmd;

enum {
  CD_PARSE_OK = 0,     /* *out filled, *used bytes consumed (terminator included) */
  CD_PARSE_MORE = 1,   /* no complete command yet: read more */
  CD_PARSE_TOO_LONG = 2 /* no terminator within CD_CMD_MAX bytes */
};

/* Parses the first command in buf[0..len). whole: the buffer is a whole
 * packet, so an old-style command without a newline ends at len (clamd's
 * rule: one packet, one command). A command that is malformed (unknown
 * name, missing or extra argument, old style where a prefix is required,
 * a NUL inside a newline-terminated line) is CD_PARSE_OK with kind
 * CD_UNKNOWN. */
int cd_cmd_parse(const uint8_t *buf, size_t len, int whole, cd_cmd *out, size_t *used);

/* The space-separated list of command names, for VERSIONCOMMANDS. */
const char *cd_cmd_names(void);

#endif
