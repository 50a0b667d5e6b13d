package dev.pricer.hub;

import java.util.regex.Pattern;

/** Checks of the names that become storage keys: file paths inside a repository, branch and tag names, hashes. */
public final class HubPaths {

    private static final Pattern REF = Pattern.compile("[A-Za-z0-9._-]{1,128}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final int MAX_PATH = 1024;

    private HubPaths() {
    }

    /** A relative path with {@code /} separators: no {@code ..} or {@code .} part, no leading {@code /}, backslash, NUL or control character. */
    public static String checkPath(String path) {
        if (path == null || path.isEmpty()) throw new HubException.Invalid("file path is empty");
        if (path.length() > MAX_PATH) throw new HubException.Invalid("file path is longer than " + MAX_PATH + " characters: " + path.substring(0, 64) + "...");
        if (path.startsWith("/")) throw new HubException.Invalid("file path '" + path + "' must not start with /");
        if (path.indexOf('\\') >= 0) throw new HubException.Invalid("file path '" + path + "' must not contain a backslash");
        for (int i = 0; i < path.length(); i++) {
            if (path.charAt(i) < 0x20 || path.charAt(i) == 0x7f) {
                throw new HubException.Invalid("file path '" + path.replace("\0", "\\0") + "' contains a control character (NUL, newline, ...)");
            }
        }
        for (String part : path.split("/", -1)) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                throw new HubException.Invalid("file path '" + path + "' has an empty, '.' or '..' part");
            }
        }
        return path;
    }

    public static String checkRef(String name) {
        if (name == null || !REF.matcher(name).matches() || name.equals(".") || name.equals("..")) {
            throw new HubException.Invalid("branch or tag name '" + name + "' must be 1 to 128 of A-Z a-z 0-9 . _ -");
        }
        return name;
    }

    public static String checkSha256(String oid) {
        if (oid == null || !SHA256.matcher(oid).matches()) {
            throw new HubException.Invalid("'" + oid + "' is not a sha256 (64 lowercase hex digits)");
        }
        return oid;
    }
}
