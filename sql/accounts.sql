-- SPDX-License-Identifier: LGPL-2.1-or-later
-- vdesk's database and the MariaDB accounts of its daemons, made once by
-- MariaDB's administrator (the unit vdesk-database as the user mysql, or an
-- admin: mariadb <accounts.sql).
-- Not a migration: the daemons' own accounts apply those at start.
--
-- Each daemon signs in over the socket as its own system user: MariaDB's
-- unix_socket plugin matches the name to the peer's uid, so no password
-- exists to leak. Its rights are on vdesk's database alone; the schema
-- rights are for the migrations in this folder. A database named otherwise
-- ([Database] Name=) needs these statements with its name.
CREATE DATABASE IF NOT EXISTS vdesk CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER IF NOT EXISTS 'vdesk-broker'@'localhost' IDENTIFIED VIA unix_socket;
CREATE USER IF NOT EXISTS 'vdesk-directory'@'localhost' IDENTIFIED VIA unix_socket;
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX
        ON vdesk.* TO 'vdesk-broker'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX
        ON vdesk.* TO 'vdesk-directory'@'localhost';
