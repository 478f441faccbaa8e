/// `keel.json.encode` and `keel.json.decode` (see `LuaJSON` for the mapping).
extension KeelModule {
    /// `keel.json.encode(value)` → compact JSON text with sorted keys.
    func jsonEncode(_ s: LuaStack) -> Int32 {
        s.push(string: LuaJSON.encode(s.value(at: 1)))
        return 1
    }

    /// `keel.json.decode(text)` → the value; raises on invalid JSON.
    func jsonDecode(_ s: LuaStack) throws -> Int32 {
        guard let text = s.string(at: 1) else {
            throw KeelModuleError("keel.json.decode: argument 1 must be a string, not \(s.typeName(at: 1))")
        }
        do {
            s.push(try LuaJSON.decode(text))
        } catch {
            throw KeelModuleError("keel.json.decode: \(error)")
        }
        return 1
    }
}
