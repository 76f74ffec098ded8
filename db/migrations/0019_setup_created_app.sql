ALTER TABLE `entra_setups` ADD `created_application_id` text;--> statement-breakpoint
ALTER TABLE `entra_setups` ADD `application_deleted_at` integer;