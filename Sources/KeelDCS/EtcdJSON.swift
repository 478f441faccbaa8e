#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The shapes of etcd 3.4's v3 JSON gateway (grpc-gateway): keys and values base64, 64-bit integers as
/// strings, zero values left out.
enum EtcdJSON {
    struct Header: Decodable { var revision: String? }

    struct KV: Decodable {
        var key: String?
        var value: String?
        var create_revision: String?
        var mod_revision: String?
        var lease: String?

        var keyValue: KeyValue {
            KeyValue(key: decode(key), value: decode(value), createRevision: Int64(create_revision ?? "") ?? 0,
                     modRevision: Int64(mod_revision ?? "") ?? 0, lease: Int64(lease ?? "") ?? 0)
        }
    }

    struct RangeResponse: Decodable { var kvs: [KV]? }
    struct LeaseGrant: Decodable { var ID: String?; var TTL: String?; var error: String? }
    struct KeepAlive: Decodable { var result: LeaseGrant? }
    struct ResponseOp: Decodable { var response_range: RangeResponse? }
    struct Txn: Decodable { var succeeded: Bool?; var responses: [ResponseOp]? }
    struct Failure: Decodable { var error: String?; var message: String? }

    static func encode(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    static func decode(_ text: String?) -> String {
        guard let text, let data = Data(base64Encoded: text) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// A request body: a JSON object (values are strings, numbers, arrays or objects).
    static func body(_ object: [String: Any]) -> [UInt8] { Array(render(object).utf8) }

    private static func render(_ value: Any) -> String {
        switch value {
        case let s as String:
            return "\"" + s.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
        case let n as Int: return String(n)
        case let n as Int64: return "\"\(n)\""
        case let list as [Any]: return "[" + list.map(render).joined(separator: ",") + "]"
        case let object as [String: Any]:
            return "{" + object.keys.sorted().map { render($0) + ":" + render(object[$0]!) }.joined(separator: ",") + "}"
        default: return "null"
        }
    }
}
