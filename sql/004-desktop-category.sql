-- SPDX-License-Identifier: LGPL-2.1-or-later
-- A desktop a staff member opened from a category records it: one desktop
-- per account and category, and a category stays while desktops use it.

ALTER TABLE desktops
        ADD COLUMN IF NOT EXISTS category_id INT UNSIGNED NULL DEFAULT NULL AFTER template_id,
        ADD UNIQUE KEY IF NOT EXISTS account_category (account_id, category_id),
        ADD CONSTRAINT desktops_category FOREIGN KEY IF NOT EXISTS (category_id) REFERENCES categories (id) ON DELETE RESTRICT;
