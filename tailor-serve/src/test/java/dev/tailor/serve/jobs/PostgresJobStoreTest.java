package dev.tailor.serve.jobs;

import dev.tailor.PostgresSchema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * {@link JobStoreTest}'s checks with the jobs in PostgreSQL ({@code TAILOR_TEST_POSTGRES_URL}), where claims take
 * their row with {@code FOR UPDATE SKIP LOCKED}, in a fresh schema.
 */
class PostgresJobStoreTest extends JobStoreTest {
    private PostgresSchema schema;

    @Override
    @BeforeAll
    void open() {
        schema = PostgresSchema.create();
        super.open();
    }

    @Override
    @AfterAll
    void close() {
        super.close();
        if (schema != null) {
            schema.close();
        }
    }

    @Override
    String database() {
        return schema.url();
    }
}
