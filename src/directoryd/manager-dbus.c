/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "account.h"
#include "bus-error.h"
#include "bus-util.h"
#include "manager.h"
#include "polkit.h"
#include "session.h"

/* The admin API: polkit decides (org.vdesk.directory1.manage), asked
 * without blocking; the method runs once polkitd said yes. */

#define AUTHORIZED(name) POLKIT_METHOD(name, Manager, DIRECTORYD_ACTION_MANAGE)

#define ACCOUNT_SIGNATURE "(sssssxx)"

static int append_account(sd_bus_message *reply, const Account *a) {
        return sd_bus_message_append(reply, ACCOUNT_SIGNATURE, a->id, a->name, a->role, a->email, a->state,
                                     (int64_t) a->created_usec, (int64_t) a->updated_usec);
}

AUTHORIZED(create_account) {
        const char *id, *name, *role, *email, *password;
        int r;

        r = sd_bus_message_read(msg, "sssss", &id, &name, &role, &email, &password);
        if (r < 0)
                return r;
        r = account_create(m, id, name, role, email, password, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(delete_account) {
        const char *id;
        int r;

        r = sd_bus_message_read(msg, "s", &id);
        if (r < 0)
                return r;
        r = account_delete(m, id, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(get_account) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *id;
        Account a = {};
        int r;

        r = sd_bus_message_read(msg, "s", &id);
        if (r < 0)
                return r;
        r = account_get(m, id, &a, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_account(reply, &a);
        account_done(&a);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

AUTHORIZED(list_accounts) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *role, *department, *state;
        uint32_t offset, limit;
        Account *a = NULL;
        size_t n = 0;
        uint64_t total = 0;
        int r;

        r = sd_bus_message_read(msg, "sssuu", &role, &department, &state, &offset, &limit);
        if (r < 0)
                return r;
        r = account_list(m, role, department, state, offset, limit, &a, &n, &total, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', ACCOUNT_SIGNATURE);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = append_account(reply, &a[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "t", total);
        account_list_free(a, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* The setters share their shape: (id, value) -> (). */
typedef int (*AccountSetter)(Manager *m, const char *id, const char *value, uid_t actor, sd_bus_error *error);

static int set_field(Manager *m, sd_bus_message *msg, uid_t actor, sd_bus_error *error, AccountSetter set) {
        const char *id, *value;
        int r;

        r = sd_bus_message_read(msg, "ss", &id, &value);
        if (r < 0)
                return r;
        r = set(m, id, value, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(set_account_name) {
        return set_field(m, msg, actor, error, account_set_name);
}

AUTHORIZED(set_account_email) {
        return set_field(m, msg, actor, error, account_set_email);
}

AUTHORIZED(reset_password) {
        return set_field(m, msg, actor, error, account_reset_password);
}

/* ---- staff: no polkit, the password (then the token) authenticates ---- */

/* Who is on the other end, for the journal: the bus vouches for the uid. */
static void peer_of(sd_bus_message *msg, char buf[static 64]) {
        uid_t uid = (uid_t) -1;

        (void) bus_sender_uid(msg, &uid);
        snprintf(buf, 64, "uid %u (%s)", (unsigned) uid, strempty(sd_bus_message_get_sender(msg)));
}

static int method_sign_in(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(freep) char *token = NULL;
        const char *id, *password;
        uint64_t expires = 0;
        char peer[64];
        int r;

        r = sd_bus_message_read(msg, "ss", &id, &password);
        if (r < 0)
                return r;
        peer_of(msg, peer);
        r = session_sign_in(userdata, id, password, peer, &token, &expires, error);
        if (r < 0)
                return r;
        r = sd_bus_reply_method_return(msg, "sx", token, (int64_t) expires);
        explicit_bzero(token, strlen(token));
        return r;
}

static int method_sign_out(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *token;
        char peer[64];
        int r;

        r = sd_bus_message_read(msg, "s", &token);
        if (r < 0)
                return r;
        peer_of(msg, peer);
        r = session_sign_out(userdata, token, peer, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_who_am_i(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *token;
        char id[64];
        Account a = {};
        int r;

        r = sd_bus_message_read(msg, "s", &token);
        if (r < 0)
                return r;
        r = session_check(userdata, token, id, error);
        if (r >= 0)
                r = account_get(userdata, id, &a, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_account(reply, &a);
        account_done(&a);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_change_password(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *id, *old_password, *new_password;
        char peer[64];
        int r;

        r = sd_bus_message_read(msg, "sss", &id, &old_password, &new_password);
        if (r < 0)
                return r;
        peer_of(msg, peer);
        r = session_change_password(userdata, id, old_password, new_password, peer, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("CreateAccount",
                                SD_BUS_ARGS("s", id, "s", name, "s", role, "s", email, "s", password),
                                SD_BUS_NO_RESULT,
                                method_create_account, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("DeleteAccount",
                                SD_BUS_ARGS("s", id),
                                SD_BUS_NO_RESULT,
                                method_delete_account, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetAccount",
                                SD_BUS_ARGS("s", id),
                                SD_BUS_RESULT(ACCOUNT_SIGNATURE, account),
                                method_get_account, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListAccounts",
                                SD_BUS_ARGS("s", role, "s", department, "s", state, "u", offset, "u", limit),
                                SD_BUS_RESULT("a" ACCOUNT_SIGNATURE, accounts, "t", total),
                                method_list_accounts, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetAccountName",
                                SD_BUS_ARGS("s", id, "s", name),
                                SD_BUS_NO_RESULT,
                                method_set_account_name, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetAccountEmail",
                                SD_BUS_ARGS("s", id, "s", email),
                                SD_BUS_NO_RESULT,
                                method_set_account_email, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ResetPassword",
                                SD_BUS_ARGS("s", id, "s", password),
                                SD_BUS_NO_RESULT,
                                method_reset_password, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("SignIn",
                                SD_BUS_ARGS("s", id, "s", password),
                                SD_BUS_RESULT("s", token, "x", expires_usec),
                                method_sign_in, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("SignOut",
                                SD_BUS_ARGS("s", token),
                                SD_BUS_NO_RESULT,
                                method_sign_out, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("WhoAmI",
                                SD_BUS_ARGS("s", token),
                                SD_BUS_RESULT(ACCOUNT_SIGNATURE, account),
                                method_who_am_i, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("ChangePassword",
                                SD_BUS_ARGS("s", id, "s", old_password, "s", new_password),
                                SD_BUS_NO_RESULT,
                                method_change_password, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_VTABLE_END
};

int manager_add_bus_objects(Manager *m) {
        return sd_bus_add_object_vtable(m->bus, NULL, DIRECTORYD_OBJECT_PATH, DIRECTORYD_INTERFACE, manager_vtable, m);
}
