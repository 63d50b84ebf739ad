// SPDX-License-Identifier: MIT
#include <oak/fsutil.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int oak_mkdir_p(const char *path, mode_t parent_mode, mode_t mode)
{
	char tmp[600];

	if (strlen(path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, parent_mode) && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(tmp, mode) && errno != EEXIST ? -1 : 0;
}
