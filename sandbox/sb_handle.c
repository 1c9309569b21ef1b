/* The production parser child: the real parse and nothing else. */
#include "sb_file.h"

void sb_handle_file(uint64_t id, int fd, uint64_t max_size) { sb_parse_file(id, fd, max_size); }
