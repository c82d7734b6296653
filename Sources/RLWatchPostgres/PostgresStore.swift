import PostgresNIO
import RLWatchStore

// The PostgreSQL store (issue 7) is being written here.
