-- SPDX-License-Identifier: LGPL-2.1-or-later
-- A category's pool: desktops made ahead for its staff belong to nobody
-- yet (account_id NULL) until one is handed over on a first open. NULLs
-- are distinct in the UNIQUE key (account_id, category_id), so a category
-- may hold any number of them while an account still has one desktop per
-- category. The index finds a category's free desktops, running first.

ALTER TABLE desktops MODIFY COLUMN account_id INT UNSIGNED NULL DEFAULT NULL;

CREATE INDEX IF NOT EXISTS pool ON desktops (category_id, account_id, state);
