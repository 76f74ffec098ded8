DROP TABLE `scheduler_leases`;--> statement-breakpoint
ALTER TABLE `device_sign_ins` ADD `device_code_sealed` text;--> statement-breakpoint
ALTER TABLE `device_sign_ins` ADD `poller_id` text;--> statement-breakpoint
ALTER TABLE `device_sign_ins` ADD `poller_until` integer;--> statement-breakpoint
ALTER TABLE `entra_setups` ADD `graph_token_sealed` text;--> statement-breakpoint
ALTER TABLE `entra_setups` ADD `graph_token_until` integer;