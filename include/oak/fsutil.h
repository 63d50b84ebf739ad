/* SPDX-License-Identifier: MIT */
/* File-system helpers the daemons share. */
#ifndef OAK_FSUTIL_H
#define OAK_FSUTIL_H

#include <sys/types.h>

/*
 * Create path and its missing parents (parents with parent_mode, path itself
 * with mode); an existing directory is fine. 0, or -1 with errno set.
 */
int oak_mkdir_p(const char *path, mode_t parent_mode, mode_t mode);

#endif
