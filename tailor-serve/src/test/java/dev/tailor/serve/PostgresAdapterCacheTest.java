package dev.tailor.serve;

import dev.tailor.PostgresSchema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * {@link AdapterCacheTest}'s checks with the registry in PostgreSQL ({@code TAILOR_TEST_POSTGRES_URL}), in a fresh schema
 * for each test.
 */
class PostgresAdapterCacheTest extends AdapterCacheTest {
    private PostgresSchema schema;

    @BeforeEach
    void createSchema() {
        schema = PostgresSchema.create();
    }

    @AfterEach
    void dropSchema() {
        if (schema != null) {
            schema.close();
        }
    }

    @Override
    String database() {
        return schema.url();
    }
}
