ALTER TABLE `sign_in_attempts` ADD `client` text DEFAULT '' NOT NULL;--> statement-breakpoint
CREATE INDEX `mailbox_tests_outcome_tenant_idx` ON `mailbox_tests` (`outcome`,`tenant_id`,`started_at`);