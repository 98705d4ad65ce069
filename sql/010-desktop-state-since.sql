-- SPDX-License-Identifier: LGPL-2.1-or-later
-- When a desktop's state last changed, to the microsecond: what the staff
-- portal shows as "running since". The broker sets it where it records a
-- state that differs from the one stored; a desktop made before this
-- counts from the migration.

ALTER TABLE desktops
        ADD COLUMN IF NOT EXISTS state_changed_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) AFTER state;
