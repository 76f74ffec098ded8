CREATE TABLE `test_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`mailbox_id` integer NOT NULL,
	`tenant_id` integer NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	`outcome` text NOT NULL,
	`source` text NOT NULL,
	`triggered_by` text NOT NULL,
	`triggered_by_id` integer,
	`steps` text NOT NULL,
	`credential_fingerprint` text NOT NULL,
	`failure_code` text,
	`arrival_ms` integer,
	FOREIGN KEY (`mailbox_id`) REFERENCES `mailboxes`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `test_runs_mailbox_started_idx` ON `test_runs` (`mailbox_id`,`started_at`);--> statement-breakpoint
CREATE INDEX `test_runs_user_started_idx` ON `test_runs` (`triggered_by_id`,`started_at`);