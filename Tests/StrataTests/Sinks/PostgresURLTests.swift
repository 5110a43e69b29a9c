import Testing
@testable import StrataPostgres

/// How a PostgreSQL URL becomes libpq's connection keywords (pure; no server).
@Suite("PostgreSQL URLs → libpq keywords")
struct PostgresURLTests {
    func keywords(_ url: String) throws -> [String: String] {
        Dictionary(try PostgresTable.target(url: url, table: "docs").parameters, uniquingKeysWith: { $1 })
    }

    @Test("host, port, user, password and database come from the URL; TLS options pass through to libpq")
    func fields() throws {
        let k = try keywords("postgres://me:s3cret@db.example:6543/kb?table=docs&sslmode=verify-full&sslrootcert=/etc/ca.pem")
        #expect(k == ["host": "db.example", "port": "6543", "user": "me", "password": "s3cret", "dbname": "kb",
                      "sslmode": "verify-full", "sslrootcert": "/etc/ca.pem"])
        let plain = try keywords("postgres://me@127.0.0.1/kb?table=docs")
        #expect(plain["port"] == "5432" && plain["sslmode"] == nil && plain["dbname"] == "kb")
    }

    @Test("an unknown URL parameter is refused, naming it and the ones that work")
    func unknown() throws {
        #expect {
            _ = try keywords("postgres://me@127.0.0.1/kb?table=docs&sslmod=require")
        } throws: { error in
            let text = "\(error)"
            return text.contains("sslmod") && text.contains("sslmode")
        }
    }
}
