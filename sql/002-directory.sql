-- SPDX-License-Identifier: LGPL-2.1-or-later
-- The directory: roles, passwords (yescrypt hashes only) and sign-in state
-- on accounts; departments with their staff and managers; categories that
-- say which template, network and redirection policy a group of staff
-- gets; sign-in sessions (a hash of the token, never the token).
-- accounts.name is the account's id (the staff number); full_name its name.

ALTER TABLE accounts
        ADD COLUMN IF NOT EXISTS role ENUM('staff', 'manager', 'admin') NOT NULL DEFAULT 'staff' AFTER name,
        ADD COLUMN IF NOT EXISTS email VARCHAR(254) NULL DEFAULT NULL AFTER full_name,
        ADD COLUMN IF NOT EXISTS state ENUM('offline', 'online') NOT NULL DEFAULT 'offline' AFTER email,
        ADD COLUMN IF NOT EXISTS password_hash VARCHAR(255) NULL DEFAULT NULL,
        ADD COLUMN IF NOT EXISTS failed_signins INT UNSIGNED NOT NULL DEFAULT 0,
        ADD COLUMN IF NOT EXISTS locked_until TIMESTAMP NULL DEFAULT NULL,
        ADD COLUMN IF NOT EXISTS updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP;

CREATE INDEX IF NOT EXISTS role_state_name ON accounts (role, state, name);

CREATE TABLE IF NOT EXISTS departments (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(63) NOT NULL,
        unit VARCHAR(255) NOT NULL DEFAULT '',
        founded SMALLINT UNSIGNED NULL DEFAULT NULL,
        created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
        UNIQUE KEY name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- A department with members or managers cannot be deleted (RESTRICT);
-- an account's memberships go with it.
CREATE TABLE IF NOT EXISTS department_members (
        department_id INT UNSIGNED NOT NULL,
        account_id INT UNSIGNED NOT NULL,
        PRIMARY KEY (department_id, account_id),
        KEY account_id (account_id),
        CONSTRAINT members_department FOREIGN KEY (department_id) REFERENCES departments (id) ON DELETE RESTRICT,
        CONSTRAINT members_account FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS department_managers (
        department_id INT UNSIGNED NOT NULL,
        account_id INT UNSIGNED NOT NULL,
        PRIMARY KEY (department_id, account_id),
        KEY account_id (account_id),
        CONSTRAINT managers_department FOREIGN KEY (department_id) REFERENCES departments (id) ON DELETE RESTRICT,
        CONSTRAINT managers_account FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS categories (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(63) NOT NULL,
        template_id INT UNSIGNED NULL DEFAULT NULL,
        network VARCHAR(63) NULL DEFAULT NULL,
        redirect_printers BOOLEAN NOT NULL DEFAULT TRUE,
        redirect_drives BOOLEAN NOT NULL DEFAULT TRUE,
        redirect_clipboard BOOLEAN NOT NULL DEFAULT TRUE,
        redirect_usb BOOLEAN NOT NULL DEFAULT FALSE,
        created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
        UNIQUE KEY name (name),
        CONSTRAINT categories_template FOREIGN KEY (template_id) REFERENCES templates (id) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS category_departments (
        category_id INT UNSIGNED NOT NULL,
        department_id INT UNSIGNED NOT NULL,
        PRIMARY KEY (category_id, department_id),
        KEY department_id (department_id),
        CONSTRAINT catdep_category FOREIGN KEY (category_id) REFERENCES categories (id) ON DELETE RESTRICT,
        CONSTRAINT catdep_department FOREIGN KEY (department_id) REFERENCES departments (id) ON DELETE RESTRICT
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS category_managers (
        category_id INT UNSIGNED NOT NULL,
        account_id INT UNSIGNED NOT NULL,
        PRIMARY KEY (category_id, account_id),
        KEY account_id (account_id),
        CONSTRAINT catman_category FOREIGN KEY (category_id) REFERENCES categories (id) ON DELETE RESTRICT,
        CONSTRAINT catman_account FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS sessions (
        token_hash CHAR(64) NOT NULL PRIMARY KEY,       -- hex SHA-256 of the token
        account_id INT UNSIGNED NOT NULL,
        peer VARCHAR(64) NOT NULL DEFAULT '',
        created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
        expires_at TIMESTAMP NOT NULL,
        KEY account_id (account_id),
        CONSTRAINT sessions_account FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE
) ENGINE=InnoDB;
