CREATE TABLE `scheduler_leases` (
	`name` text PRIMARY KEY NOT NULL,
	`holder` text NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `mailbox_tests` ADD `mode` text DEFAULT 'full' NOT NULL;--> statement-breakpoint
ALTER TABLE `mailboxes` ADD `monitor_light` text;--> statement-breakpoint
ALTER TABLE `mailboxes` ADD `monitor_full` text;--> statement-breakpoint
ALTER TABLE `mailboxes` ADD `last_monitor_light_at` integer;--> statement-breakpoint
ALTER TABLE `mailboxes` ADD `last_monitor_full_at` integer;--> statement-breakpoint
ALTER TABLE `tenants` ADD `monitor_light` text DEFAULT 'hourly' NOT NULL;--> statement-breakpoint
ALTER TABLE `tenants` ADD `monitor_full` text DEFAULT 'daily' NOT NULL;