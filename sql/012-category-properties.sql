-- SPDX-License-Identifier: LGPL-2.1-or-later
-- A category's settings beyond its template, network and redirections
-- (directoryd's SetCategoryProperties): PoolSize= desktops made ahead for
-- its staff, PoolStarted= of them kept booted, and IdleStopMinutes= after
-- which a desktop of the category without an RDP connection is stopped
-- (0: never). The broker reads them; 0s keep a category as it was.

ALTER TABLE categories
        ADD COLUMN IF NOT EXISTS pool_size INT UNSIGNED NOT NULL DEFAULT 0,
        ADD COLUMN IF NOT EXISTS pool_started INT UNSIGNED NOT NULL DEFAULT 0,
        ADD COLUMN IF NOT EXISTS idle_stop_minutes INT UNSIGNED NOT NULL DEFAULT 0,
        ADD CONSTRAINT IF NOT EXISTS categories_pool_started CHECK (pool_started <= pool_size);
