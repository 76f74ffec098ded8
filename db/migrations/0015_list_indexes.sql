DROP INDEX `users_tenant_idx`;--> statement-breakpoint
CREATE INDEX `users_tenant_email_idx` ON `users` (`tenant_id`,`email`);--> statement-breakpoint
CREATE INDEX `alerts_created_idx` ON `alerts` (`created_at`);--> statement-breakpoint
CREATE INDEX `tenants_name_idx` ON `tenants` (`name`,`id`);