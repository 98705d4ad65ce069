/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "manager.h"

/* The organisation: departments (with their staff and managers) and
 * categories (which template, network and redirection policy a group of
 * staff gets, linked to departments and managers). Deleting what is still
 * used is refused by the schema's keys and reported with a named error. */

typedef struct Department {
        char name[64];
        char *unit;
        uint16_t founded;       /* 0: not known */
        uint32_t n_members;
        uint32_t n_managers;
} Department;

/* A staff member of a department someone manages. */
typedef struct ManagedStaff {
        char department[64];
        char id[64];
        char *full_name;
} ManagedStaff;

typedef struct Category {
        char name[64];
        char template[64];      /* "" if none */
        char network[64];       /* "" if none */
        bool printers, drives, clipboard, usb;
} Category;

/* A category's settings set one at a time by name (SetCategoryProperties),
 * as systemctl set-property does: each a count, 0 for off. */
typedef enum CategoryProperty {
        CATEGORY_POOL_SIZE,             /* desktops made ahead, unassigned */
        CATEGORY_POOL_STARTED,          /* of those, kept running: <= PoolSize */
        CATEGORY_IDLE_STOP_MINUTES,     /* stop a desktop this long without an RDP connection */
        _CATEGORY_PROPERTY_MAX,
        _CATEGORY_PROPERTY_INVALID = -EINVAL,
} CategoryProperty;

const char *category_property_to_string(CategoryProperty p);
CategoryProperty category_property_from_string(const char *s);

typedef struct CategoryProperties {
        uint32_t value[_CATEGORY_PROPERTY_MAX];
        bool set[_CATEGORY_PROPERTY_MAX];       /* which ones a change names */
} CategoryProperties;

void department_list_free(Department *d, size_t n);

int department_create(Manager *m, const char *name, const char *unit, uint16_t founded, uid_t actor, sd_bus_error *error);
int department_delete(Manager *m, const char *name, uid_t actor, sd_bus_error *error);
/* All departments, or (name not NULL) that one: NoSuchDepartment if none. */
int department_list(Manager *m, const char *name, Department **ret, size_t *ret_n, sd_bus_error *error);

int category_create(Manager *m, const Category *c, uid_t actor, sd_bus_error *error);
int category_delete(Manager *m, const char *name, uid_t actor, sd_bus_error *error);
int category_update(Manager *m, const Category *c, uid_t actor, sd_bus_error *error);
/* All categories, or (account not NULL) those the account gets desktops
 * from: its departments' and the ones it manages. */
int category_list(Manager *m, const char *account, Category **ret, size_t *ret_n, sd_bus_error *error);
/* Sets those of p that are set, all or none: InvalidArgs naming the one
 * out of its range, or PoolStarted= above PoolSize= (as they would be
 * after the change); NoSuchCategory if there is none. */
int category_set_properties(Manager *m, const char *name, const CategoryProperties *p, uid_t actor,
                            sd_bus_error *error);
/* Every property of the category, all set. */
int category_get_properties(Manager *m, const char *name, CategoryProperties *ret, sd_bus_error *error);

typedef enum OrgLink {
        LINK_MEMBER,                    /* department <- staff account */
        LINK_MANAGER,                   /* department <- manager account */
        LINK_CATEGORY_DEPARTMENT,       /* category <- department */
        LINK_CATEGORY_MANAGER,          /* category <- manager account */
        _LINK_MAX,
} OrgLink;

/* Adds (idempotently) or removes (NotLinked if absent) one link between
 * the objects named a (department or category) and b. */
int org_link(Manager *m, OrgLink link, const char *a, const char *b, bool add, uid_t actor, sd_bus_error *error);

/* The ids of a department's staff (or managers), ordered. */
int department_members(Manager *m, const char *department, bool managers, char ***ret_ids, sd_bus_error *error);

void managed_staff_free(ManagedStaff *s, size_t n);
/* The staff of every department the account manager manages, by
 * department and id; none (not an error) for an account that manages
 * nothing. */
int managed_staff(Manager *m, const char *manager, ManagedStaff **ret, size_t *ret_n, sd_bus_error *error);
