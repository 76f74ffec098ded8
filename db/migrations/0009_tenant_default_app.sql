ALTER TABLE `tenants` ADD `default_azure_client_id` text;--> statement-breakpoint
ALTER TABLE `tenants` ADD `default_azure_tenant_id` text;--> statement-breakpoint
ALTER TABLE `tenants` ADD `default_cloud` text;