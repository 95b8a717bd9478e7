-- Who registered each version (V6; uses V1's table only): 'admin', or 'tenant:' and the tenant's name. Versions
-- registered before this migration have none.
ALTER TABLE adapter_version ADD COLUMN creator TEXT;
