ALTER TABLE `mailboxes` ADD `health` text DEFAULT 'unknown' NOT NULL;--> statement-breakpoint
ALTER TABLE `mailboxes` ADD `health_since` integer;--> statement-breakpoint
ALTER TABLE `mailboxes` ADD `last_test_at` integer;--> statement-breakpoint
ALTER TABLE `mailboxes` ADD `last_failure_code` text;--> statement-breakpoint
CREATE INDEX `mailboxes_tenant_health_idx` ON `mailboxes` (`tenant_id`,`health`,`health_since`);--> statement-breakpoint
-- Existing mailboxes start from their latest finished test of the saved settings.
UPDATE `mailboxes` SET
  `last_test_at` = (SELECT max(`finished_at`) FROM `mailbox_tests` t WHERE t.`mailbox_id` = `mailboxes`.`id` AND t.`source` = 'saved' AND t.`finished_at` IS NOT NULL),
  `health` = coalesce((SELECT CASE t.`outcome` WHEN 'passed' THEN 'healthy' ELSE 'failing' END FROM `mailbox_tests` t WHERE t.`mailbox_id` = `mailboxes`.`id` AND t.`source` = 'saved' AND t.`finished_at` IS NOT NULL ORDER BY t.`id` DESC LIMIT 1), 'unknown'),
  `last_failure_code` = (SELECT t.`failure_code` FROM `mailbox_tests` t WHERE t.`mailbox_id` = `mailboxes`.`id` AND t.`source` = 'saved' AND t.`finished_at` IS NOT NULL ORDER BY t.`id` DESC LIMIT 1);--> statement-breakpoint
UPDATE `mailboxes` SET `health_since` = `last_test_at` WHERE `health` <> 'unknown';
