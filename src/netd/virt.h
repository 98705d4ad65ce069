/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* netd's only libvirt use: a read-only look at what runs, at start-up. */

/* Returns the domain XML of every running domain at uri, NULL-terminated. */
int virt_running_domain_xmls(const char *uri, char ***ret);
