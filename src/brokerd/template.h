/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>

#include "manager.h"
#include "util.h"

/* Templates: built from an ISO over a SPICE console, edited and committed
 * as new versions. A template is "building" (its build domain build@<name>
 * installs onto its empty disk), "installed" (desktops derive from its
 * newest version) or "editing" (an edit domain edit@<name> writes to an
 * overlay of the newest version; desktops still derive from that version).
 * Each commit flattens the edit into a new file, the next version; a
 * desktop keeps the version its disk was derived from until re-issued, and
 * versions no desktop uses are removed once a newer one exists. */

/* SQL: the join condition of a template t with its newest version v. The
 * newest version is the highest, not a stored number that could stray. */
#define TEMPLATE_NEWEST_VERSION \
        "v.template_id = t.id AND v.version = (SELECT MAX(x.version) FROM template_versions x WHERE x.template_id = t.id)"

typedef struct Template {
        uint64_t id;
        char name[64];
        char state[16];
        char format[8];
        unsigned version;               /* the newest */
        uint64_t size;
        unsigned memory_mib;            /* 0: [Desktop] MemoryMiB= */
        unsigned vcpus;                 /* 0: [Desktop] VCPUs= */
        char os_type[64];
        char *description;
        char iso[256];
        char *path;                     /* the newest version's file */
        char version_format[8];         /* its format, as recorded when it was registered or made */
} Template;

/* The console domain of a template being built or edited (build@NAME,
 * edit@NAME), else NULL. */
#define TEMPLATE_DOMAIN_MAX (sizeof("build@") + NAME_MAX_LEN)
const char *template_console_domain(const Template *t, char buf[static TEMPLATE_DOMAIN_MAX]);

void template_done(Template *t);
void template_list_free(Template *t, size_t n);

/* The names of all templates, sorted. */
int template_names(Manager *m, char ***ret);
int template_get(Manager *m, const char *name, Template *ret, sd_bus_error *error);
int template_list(Manager *m, Template **ret, size_t *ret_n);

/* Registers an existing disk file in TemplateDir as an installed template
 * (its version 1). Its format is read from its first bytes this once, from
 * a file no guest of vdesk's has written yet, and recorded: nothing reads it
 * from the file again. A qcow2 file must be whole by itself (no backing
 * file). */
int template_register(Manager *m, const char *name, const char *path, uid_t actor, sd_bus_error *error);

typedef struct TemplateSpec {
        const char *name;
        int64_t size;
        const char *format;
        const char *iso;
        uint32_t memory_mib;
        uint32_t vcpus;
        const char *description;
        const char *os_type;
} TemplateSpec;

/* How an admin reaches a build or edit domain's console: a one-time SPICE
 * ticket, voided once a client got in with it or when it expires. */
typedef struct Console {
        char *uri;              /* spice://host:port */
        char *host;
        unsigned port;
        char ticket[9];
        uint64_t valid_until_usec;
        char *vv;               /* a [virt-viewer] file for remote-viewer */
} Console;


void console_done(Console *c);

int template_create(Manager *m, const TemplateSpec *spec, uid_t actor, Console *ret, sd_bus_error *error);
/* A fresh ticket for the open build or edit (the domain is started if it
 * was shut down); the previous ticket stops working. */
int template_console(Manager *m, const char *name, uid_t actor, Console *ret, sd_bus_error *error);
int template_finish(Manager *m, const char *name, bool force, uid_t actor, sd_bus_error *error);
/* iso may be "" (none). */
int template_edit(Manager *m, const char *name, const char *iso, uid_t actor, Console *ret, sd_bus_error *error);
/* Replies to msg (unless NULL) when the flattening is done: (u version).
 * The template is 'committing' from the start until the new version is
 * recorded (then 'installed') or the commit failed (then 'editing' again);
 * a commit cut short stays 'committing', and committing again resumes it
 * (imaged makes each version once and answers for it again). */
int template_commit_begin(Manager *m, sd_bus_message *msg, const char *name, bool force, uid_t actor,
                          sd_bus_error *error);
/* Resumes the commits cut short (brokerd stopped, or its call to imaged
 * failed): when libvirt is connected, at start and after a reconnect. */
void template_commits_resume(Manager *m);
int template_discard(Manager *m, const char *name, bool force, uid_t actor, sd_bus_error *error);
int template_delete(Manager *m, const char *name, uid_t actor, sd_bus_error *error);
/* Removes the versions below the newest that no desktop uses. */
int template_prune(Manager *m, const char *name, uid_t actor, uint32_t **ret_versions, size_t *ret_n,
                   sd_bus_error *error);

typedef struct TemplateVersion {
        unsigned version;
        char *path;
        uint64_t created_usec;
        char **desktops;
} TemplateVersion;

int template_versions(Manager *m, const char *name, TemplateVersion **ret, size_t *ret_n, sd_bus_error *error);
void template_versions_free(TemplateVersion *v, size_t n);

/* libvirt saw a console client of domain get past authentication. */
void template_console_used(Manager *m, const char *domain, const char *client);
void template_console_voids_free(Manager *m);
