/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>

#include "manager.h"

/* Accounts: rows in the database. Each function does all of its change or
 * none, and fails with a named error in *error. A password or its hash is
 * never logged or returned. */

typedef enum AccountRole {
        ACCOUNT_STAFF,
        ACCOUNT_MANAGER,
        ACCOUNT_ADMIN,
        _ACCOUNT_ROLE_MAX,
        _ACCOUNT_ROLE_INVALID = -EINVAL,
} AccountRole;

const char *account_role_to_string(AccountRole r);
AccountRole account_role_from_string(const char *s);

typedef struct Account {
        char id[64];            /* the staff number, accounts.name */
        char *name;             /* the person's name */
        char role[8];
        char *email;            /* "" if none */
        char state[8];
        uint64_t created_usec;
        uint64_t updated_usec;
} Account;

void account_done(Account *a);
void account_list_free(Account *a, size_t n);

/* NULL if s is an acceptable e-mail address (or empty), else why not. */
const char *email_invalid_reason(const char *s);
/* NULL if s is an acceptable personal name, else why not. */
const char *person_name_invalid_reason(const char *s);

/* WeakPassword (the policy's reason) unless password meets [Directory]'s
 * policy. */
int account_check_new_password(Manager *m, const char *password, sd_bus_error *error);

/* An empty password creates an account that cannot sign in until one is
 * set with account_reset_password(). Checks its input at once (negative,
 * error set, done not called), then calls done exactly once: at once
 * without a password, else once a worker hashed it. */
int account_create(Manager *m, const char *id, const char *name, const char *role, const char *email,
                   const char *password, uid_t actor, ManagerDoneFunc done, void *userdata, sd_bus_error *error);
int account_delete(Manager *m, const char *id, uid_t actor, sd_bus_error *error);
int account_get(Manager *m, const char *id, Account *ret, sd_bus_error *error);

/* Accounts ordered by id; empty filters match all. *ret_total counts all
 * that match, not only the page. */
int account_list(Manager *m, const char *role, const char *department, const char *state,
                 uint32_t offset, uint32_t limit, Account **ret, size_t *ret_n, uint64_t *ret_total,
                 sd_bus_error *error);

int account_set_name(Manager *m, const char *id, const char *name, uid_t actor, sd_bus_error *error);
int account_set_email(Manager *m, const char *id, const char *email, uid_t actor, sd_bus_error *error);
/* A new password set by an admin (hashed by a worker, then done called as
 * account_create() does): lifts a lock, ends a pending activation and
 * every session of the account. */
int account_reset_password(Manager *m, const char *id, const char *password, uid_t actor, ManagerDoneFunc done,
                           void *userdata, sd_bus_error *error);
