-- SPDX-License-Identifier: LGPL-2.1-or-later
-- Whether an account is online is whether it has a session that has not
-- expired: derived from sessions when read, not stored, so that a session
-- that runs out without a sign-out does not leave the account "online".

ALTER TABLE accounts
        DROP INDEX IF EXISTS role_state_name,
        DROP COLUMN IF EXISTS state,
        ADD INDEX IF NOT EXISTS role_name (role, name);
