// keyUsed (run/config_help.h): which keys a run reads under the choices made. Every reader
// declares it with each key (KeyDoc::when, and KeyDoc::unused or a method's retold KeyDocs for
// the keys a shared reader declares that it does not read): ConfigField::readUnder decides.

#include "run/config_help.h"

namespace frugal::run {

bool keyUsed(const std::string& /*method: its schema already says*/, const ConfigField& field,
             const std::vector<ConfigField>& schema, const std::map<std::string, std::string>& values) {
    return field.readUnder(values, schema);
}

}  // namespace frugal::run
