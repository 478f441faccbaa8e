#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelNet

/// `ConsensusStore` over etcd's v3 JSON gateway (etcd 3.4: `POST /v3/...`). Each call tries the endpoints in
/// turn, the one that answered last first, within `callTimeout` seconds in all (each endpoint gets an equal
/// share, the last what is left); a transport failure moves on to the next endpoint, an error answered by
/// etcd is thrown as it is.
public final class EtcdStore: ConsensusStore, @unchecked Sendable {
    private let endpoints: [DCSEndpoint]
    private let callTimeout: Double
    private let lock = Lock()
    private var preferred = 0

    /// A client of `endpoints`, each call bounded by `callTimeout` seconds.
    public init(endpoints: [DCSEndpoint], callTimeout: Double) {
        precondition(!endpoints.isEmpty)
        self.endpoints = endpoints
        self.callTimeout = callTimeout
    }

    /// A client for `settings`.
    public convenience init(_ settings: DCSSettings) {
        self.init(endpoints: settings.endpoints, callTimeout: settings.callTimeout)
    }

    public func grantLease(ttl: Int) throws -> Int64 {
        let answer = try call("/v3/lease/grant", ["TTL": ttl], as: EtcdJSON.LeaseGrant.self)
        guard let id = answer.ID.flatMap({ Int64($0) }), id != 0 else { throw DCSError("etcd granted no lease: \(answer.error ?? "no ID")") }
        return id
    }

    public func keepAlive(_ lease: Int64) throws -> Bool {
        let answer = try call("/v3/lease/keepalive", ["ID": lease], as: EtcdJSON.KeepAlive.self)
        return (answer.result?.TTL.flatMap { Int64($0) } ?? 0) > 0
    }

    public func revokeLease(_ lease: Int64) throws {
        do {
            _ = try call("/v3/lease/revoke", ["ID": lease], as: EtcdJSON.Failure.self)
        } catch let error as DCSError where error.message.contains("lease not found") {
            return
        }
    }

    public func putIf(_ key: String, value: String, lease: Int64, condition: PutCondition) throws -> (done: Bool, current: KeyValue?) {
        let k = EtcdJSON.encode(key)
        let compare: [String: Any] = switch condition {
        case .absent: ["key": k, "target": "CREATE", "result": "EQUAL", "create_revision": Int64(0)]
        case .modRevision(let revision): ["key": k, "target": "MOD", "result": "EQUAL", "mod_revision": revision]
        }
        let put: [String: Any] = ["key": k, "value": EtcdJSON.encode(value), "lease": lease]
        let answer = try call("/v3/kv/txn", ["compare": [compare], "success": [["request_put": put]],
                                             "failure": [["request_range": ["key": k]]]], as: EtcdJSON.Txn.self)
        if answer.succeeded == true { return (true, nil) }
        let current = answer.responses?.first?.response_range?.kvs?.first?.keyValue
        return (false, current)
    }

    public func get(_ key: String) throws -> KeyValue? {
        try call("/v3/kv/range", ["key": EtcdJSON.encode(key)], as: EtcdJSON.RangeResponse.self).kvs?.first?.keyValue
    }

    public func list(prefix: String) throws -> [KeyValue] {
        var end = Array(prefix.utf8)
        end[end.count - 1] += 1
        let body: [String: Any] = ["key": EtcdJSON.encode(prefix), "range_end": Data(end).base64EncodedString()]
        return (try call("/v3/kv/range", body, as: EtcdJSON.RangeResponse.self).kvs ?? []).map(\.keyValue)
    }

    public func put(_ key: String, value: String, lease: Int64) throws {
        var body: [String: Any] = ["key": EtcdJSON.encode(key), "value": EtcdJSON.encode(value)]
        if lease != 0 { body["lease"] = lease }
        _ = try call("/v3/kv/put", body, as: EtcdJSON.Failure.self)
    }

    public func deleteIf(_ key: String, value: String) throws -> Bool {
        let k = EtcdJSON.encode(key)
        let compare: [String: Any] = ["key": k, "target": "VALUE", "result": "EQUAL", "value": EtcdJSON.encode(value)]
        let answer = try call("/v3/kv/txn", ["compare": [compare], "success": [["request_delete_range": ["key": k]]]],
                              as: EtcdJSON.Txn.self)
        return answer.succeeded == true
    }

    /// POSTs `body` to `path` on the endpoints in turn; decodes a 200 answer as `T`.
    private func call<T: Decodable>(_ path: String, _ body: [String: Any], as: T.Type) throws -> T {
        let payload = EtcdJSON.body(body)
        let start = lock.withLock { preferred }
        var failures: [String] = []
        let share = callTimeout / Double(endpoints.count)
        for i in 0..<endpoints.count {
            let index = (start + i) % endpoints.count
            let endpoint = endpoints[index]
            let response: HTTPExchange.Response
            do {
                response = try HTTPExchange.send("POST", path, host: endpoint.host, port: endpoint.port, peer: "\(endpoint)",
                                                 body: payload, deadline: ContinuousClock.now + .milliseconds(Int64(share * 1000)))
            } catch {
                failures.append("\(error)")
                continue
            }
            lock.withLock { preferred = index }
            guard response.status == 200 else {
                let failure = try? JSONDecoder().decode(EtcdJSON.Failure.self, from: Data(response.body))
                let text = failure?.error ?? failure?.message ?? String(decoding: response.body.prefix(200), as: UTF8.self)
                if response.status >= 500 { failures.append("\(endpoint): HTTP \(response.status): \(text)"); continue }
                throw DCSError("\(endpoint): HTTP \(response.status): \(text)")
            }
            do {
                return try JSONDecoder().decode(T.self, from: Data(response.body))
            } catch {
                throw DCSError("\(endpoint): unexpected answer to \(path): \(String(decoding: response.body.prefix(200), as: UTF8.self))")
            }
        }
        throw DCSError(failures.joined(separator: "; "))
    }
}
