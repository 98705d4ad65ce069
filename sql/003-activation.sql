-- SPDX-License-Identifier: LGPL-2.1-or-later
-- Accounts imported in bulk have no password yet: their owner sets one with
-- a one-time activation code. Only the code's SHA-256 (hex) is stored; the
-- code is random (100 bits), so a fast hash suffices.

ALTER TABLE accounts
        ADD COLUMN IF NOT EXISTS activation_hash CHAR(64) NULL DEFAULT NULL,
        ADD COLUMN IF NOT EXISTS activation_expires TIMESTAMP NULL DEFAULT NULL;
