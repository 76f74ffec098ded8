-- A password mailbox without the Azure fields signs in with plain password login: stored as "basic"
-- instead of being derived from an empty ClientID each time it is read.
UPDATE `mailboxes` SET `sign_in_method` = 'basic' WHERE `sign_in_method` = 'password' AND (`azure_client_id` IS NULL OR `azure_client_id` = '');
