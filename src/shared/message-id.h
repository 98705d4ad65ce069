/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Journal MESSAGE_IDs of vdesk's operator-facing events. Each is explained in
 * catalog/vdesk.catalog; `journalctl MESSAGE_ID=<id>` lists one kind of event. */

#define MID_RULESET_LOADED      "8e94ad683fed4fcaadcdd9be076f3b9a"
#define MID_FORWARD_ADDED       "a41ec92343924bb6b9e139a945447176"
#define MID_FORWARD_REMOVED     "a1315377be4846f085e8f14a5a54c6b0"
#define MID_FORWARDS_RECONCILED "e1cb4b179ce64b058238e90dfa0df1a6"
#define MID_DISK_CREATED        "550a9ab3426045c4b2056866aa69fa3c"
#define MID_DISK_DELETED        "598efba6cfe24a918992e9a20738601f"
#define MID_HOOK_REFUSED        "2c34e72fc0d74bf683d7cd485ceb07b5"
#define MID_TEMPLATE_REGISTERED "7c0c355c7f344f7184e6b9e1dd823848"
#define MID_DESKTOP_CREATED     "7f001ed3c22443fbb901510ef9cc4eca"
#define MID_DESKTOP_STARTED     "09f55d331b884e1a9e331bd8590ab730"
#define MID_DESKTOP_STOPPED     "f3c4bad5e0894c8e901e241641c7d9fc"
#define MID_DESKTOP_DELETED     "ad318ceb349c49b480beaccdd69d73f4"
#define MID_DESKTOP_OPENED      "29535fc455604565b5421447d26f0967"
#define MID_ACCESS_DENIED       "d09b0fa622bf437e8895fd6003ad460f"
#define MID_NETWORK_READY       "3793b6a81ca54518aa6e1ab943d6e468"
#define MID_LIBVIRT_CONNECTION  "2ca1f1c6ac244dae84b5604babfd8b00"
#define MID_ACCOUNT_CREATED     "06a7aa175d79472a8ff671a8f00f57d6"
#define MID_ACCOUNT_DELETED     "a01ab5c9dd4f47b7b06dfe9f9a6ce1c8"
#define MID_ACCOUNT_CHANGED     "39569f90e37c4b5394f1f3f00672de98"
#define MID_PASSWORD_RESET      "dbcebbb5ddee432b89234a29cc0d7afa"
#define MID_SIGNED_IN           "d1c0cd432527419ca6803e29f6227e3c"
#define MID_SIGNED_OUT          "5b918b6616cd4f68b806922f5215fadc"
#define MID_SIGNIN_FAILED       "874f16b159f648dba581515f70f32fcc"
#define MID_ACCOUNT_LOCKED      "d295b938dadc48a8bc92fb72110eb161"
#define MID_PASSWORD_CHANGED    "12a4a5dffbd8456d8ed2cb62b7f8b190"
#define MID_DEPARTMENT_CHANGED  "f8ea817e814a45fb92c327cf35bd6b49"
#define MID_CATEGORY_CHANGED    "1f882e183a7746ea97bc34d507c3729d"
