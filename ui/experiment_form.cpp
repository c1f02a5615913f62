#include "experiment_form.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollArea>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QThread>
#include <QTimer>
#include <QVBoxLayout>
#include <exception>
#include <memory>

#include "common/error.h"
#include "run/config_help.h"
#include "run/jobs.h"
#include "run/provenance.h"
#include "run/method_registry.h"
#include "run/runner.h"
#include "run/workspace.h"

namespace frugal::ui {

namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }

QString experimentsDir() { return q(run::experimentsDir().string()); }

QString tomlString(const QString& text) {
    QString escaped = text;
    escaped.replace(QLatin1Char('\\'), QStringLiteral("\\\\"))
        .replace(QLatin1Char('"'), QStringLiteral("\\\""));
    return QLatin1Char('"') + escaped + QLatin1Char('"');
}

// A TOML value as the form shows it: strings without their quotes; a list of strings or numbers
// as its items ("q, v"), not as TOML.
QString displayValue(const QString& value, run::ConfigField::Kind kind = run::ConfigField::Kind::String) {
    if (kind == run::ConfigField::Kind::List && value.startsWith(QLatin1Char('[')) && value.endsWith(QLatin1Char(']'))) {
        QStringList items;
        for (const QString& item : value.mid(1, value.size() - 2).split(QLatin1Char(','), Qt::SkipEmptyParts))
            items << displayValue(item.trimmed());
        return items.join(QStringLiteral(", "));
    }
    if (value.size() >= 2 &&
        (value.startsWith(QLatin1Char('"')) || value.startsWith(QLatin1Char('\''))) &&
        value.endsWith(value.front()))
        return value.mid(1, value.size() - 2);
    return value;
}

QString kindText(const run::ConfigField& f) {
    using Kind = run::ConfigField::Kind;
    switch (f.kind) {
        case Kind::Integer:
            return QObject::tr("integer in [%1, %2]")
                .arg(static_cast<qint64>(f.lo))
                .arg(static_cast<qint64>(f.hi));
        case Kind::Number: return QObject::tr("number in [%1, %2]").arg(f.lo).arg(f.hi);
        case Kind::Boolean: return QObject::tr("true or false");
        case Kind::Path: return QObject::tr("a file path");
        case Kind::List: return QObject::tr("a list, items separated by commas, e.g. q, v");
        case Kind::String:
            if (!f.choices.empty()) {
                QStringList c;
                for (const auto& choice : f.choices) c << q(choice);
                return QObject::tr("one of %1").arg(c.join(QStringLiteral(", ")));
            }
            return QObject::tr("text");
    }
    return {};
}

}  // namespace

QString formMessage(const QString& message) {
    static const QRegularExpression prefix(QStringLiteral("^the form(:\\d+| \\(from an override\\))?: "));
    QString out = message;
    out.remove(prefix);
    return out;
}

QVector<Preset> methodPresets() {
    const QDir dir(experimentsDir());
    QVector<Preset> out;
    for (const run::MethodPreset& p : run::methodPresets()) {
        const QString file = dir.filePath(QString::fromStdString(p.preset.file));
        QFile f(file);
        if (!f.open(QIODevice::ReadOnly | QIODevice::Text)) continue;  // not in this source tree
        const run::ConfigSubject subject = run::configSubject(f.readAll().toStdString());
        QString label = QString::fromStdString(p.preset.label);
        if (!subject.model.empty()) label = QObject::tr("%1 · %2").arg(label, QString::fromStdString(subject.model));
        if (!subject.task.empty()) label = QObject::tr("%1 on %2").arg(label, QString::fromStdString(subject.task));
        out.push_back({label, file});
    }
    return out;
}

struct ExperimentForm::Field {
    run::ConfigField schema;
    QString key;
    QLabel* label = nullptr;
    QFormLayout* form = nullptr;  // the row's layout and its box, to fold it away
    std::pair<QFormLayout*, QFormLayout*> columns{nullptr, nullptr};  // the box's two columns
    QWidget* box = nullptr;
    QWidget* rowWidget = nullptr;
    bool used = true;  // read under the current choices (run::keyUsed)
    QString problem;   // what validation says of this field, "" when fine
    QLineEdit* line = nullptr;
    QComboBox* combo = nullptr;
    QCheckBox* check = nullptr;
    QString text() const {
        if (check) return check->isChecked() ? QStringLiteral("true") : QStringLiteral("false");
        if (combo) return combo->currentText();
        return line->text();
    }
    void setText(const QString& value) {
        if (check)
            check->setChecked(value == QStringLiteral("true"));
        else if (combo)
            combo->setCurrentText(value);
        else
            line->setText(value);
    }
    QWidget* editor() const {
        if (check) return check;
        if (combo) return combo;
        return line;
    }
};

ExperimentForm::ExperimentForm(QWidget* parent) : QWidget(parent) {
    m_presets = new QComboBox(this);
    for (const Preset& p : methodPresets()) m_presets->addItem(p.label, p.file);
    auto* openButton = new QPushButton(tr("Open TOML…"), this);
    auto* saveButton = new QPushButton(tr("Save TOML…"), this);
    m_name = new QLineEdit(this);
    m_name->setPlaceholderText(tr("run name (default: the preset's)"));
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Method preset"), this));
    top->addWidget(m_presets, 1);
    top->addWidget(openButton);
    top->addWidget(saveButton);
    auto* nameRow = new QHBoxLayout;
    nameRow->addWidget(new QLabel(tr("Run name"), this));
    nameRow->addWidget(m_name, 1);

    m_showAll = new QCheckBox(this);
    m_showAll->setToolTip(tr("Keys the chosen method, optimiser, target and schedule do not read: "
                             "shown greyed, and kept in the saved config"));
    connect(m_showAll, &QCheckBox::toggled, this, &ExperimentForm::updateRelevance);
    m_fieldsHost = new QWidget;
    m_fieldsLayout = new QVBoxLayout(m_fieldsHost);
    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setWidget(m_fieldsHost);

    m_summary = new QLabel(this);
    m_summary->setWordWrap(true);
    m_message = new QLabel(this);
    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_trainable = new QLabel(this);
    m_trainable->setWordWrap(true);
    m_trainable->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_start = new QPushButton(tr("Start now"), this);
    m_queue = new QPushButton(tr("Queue"), this);
    m_start->setDefault(true);
    auto* bottom = new QHBoxLayout;
    bottom->addWidget(m_message, 1);
    bottom->addWidget(m_queue);
    bottom->addWidget(m_start);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addLayout(nameRow);
    layout->addWidget(m_summary);
    layout->addWidget(m_showAll);
    layout->addWidget(scroll, 1);
    layout->addWidget(m_trainable);
    layout->addLayout(bottom);

    m_validateTimer = new QTimer(this);
    m_validateTimer->setSingleShot(true);
    m_validateTimer->setInterval(250);
    connect(m_validateTimer, &QTimer::timeout, this, [this] {
        if (!isVisible()) {
            m_validatePending = true;
            return;
        }
        validate();
    });
    connect(m_presets, &QComboBox::currentIndexChanged, this, &ExperimentForm::presetChosen);
    connect(openButton, &QPushButton::clicked, this, &ExperimentForm::openDialog);
    connect(saveButton, &QPushButton::clicked, this, &ExperimentForm::saveDialog);
    connect(m_start, &QPushButton::clicked, this, &ExperimentForm::startNow);
    connect(m_queue, &QPushButton::clicked, this, &ExperimentForm::queue);
    if (m_presets->count() > 0) presetChosen(0);
}

ExperimentForm::~ExperimentForm() {
    for (const QPointer<QThread>& worker : m_workers)
        if (worker) worker->wait();  // an inputs' check: short (a task file, a tokenizer)
    qDeleteAll(m_fields);
}

// What the worker thread found of the form's inputs.
struct ExperimentForm::InputCheck {
    std::shared_ptr<run::PreparedRun> prepared;
    QString trainable;
    std::string key;  // the key of the error, if it has one
    QString error;
};

run::PreparedRun ExperimentForm::readKeys(const std::vector<std::string>& overrides) const {
    MethodRequest request;
    request.file = "the form";
    request.text = m_baseText.toStdString();
    request.overrides = overrides;
    request.checkOnly = true;
    return run::prepareRequest(request);
}

QString ExperimentForm::presetText() const { return m_presets->currentText(); }

// The preset list names where the form's config came from: its preset, else one entry (first)
// saying what was loaded instead, so that the label never names a preset the form no longer holds.
void ExperimentForm::showSource(const QString& source) {
    const QSignalBlocker block(m_presets);
    constexpr int kNotPreset = Qt::UserRole + 1;
    if (m_presets->count() > 0 && m_presets->itemData(0, kNotPreset).toBool()) m_presets->removeItem(0);
    const QFileInfo info(source);
    const QString path = info.exists() ? info.canonicalFilePath() : QString();
    for (int i = 0; i < m_presets->count() && !path.isEmpty(); ++i)
        if (QFileInfo(m_presets->itemData(i).toString()).canonicalFilePath() == path) {
            m_presets->setCurrentIndex(i);
            return;
        }
    m_presets->insertItem(0, tr("Not a preset: %1").arg(info.exists() ? info.fileName() : source), QString());
    m_presets->setItemData(0, true, kNotPreset);
    m_presets->setCurrentIndex(0);
}

void ExperimentForm::selectPreset(int index) {
    const QVector<Preset> presets = methodPresets();
    if (index < 0 || index >= presets.size()) return;
    const int item = m_presets->findData(presets[index].file);
    if (item < 0) return;
    if (m_presets->currentIndex() != item) {
        m_presets->setCurrentIndex(item);  // loads it through presetChosen
        return;
    }
    presetChosen(item);
}

void ExperimentForm::presetChosen(int item) {
    if (item < 0 || item >= m_presets->count()) return;
    const QString file = m_presets->itemData(item).toString();
    if (file.isEmpty()) return;  // the "Not a preset" entry
    const QString error = loadFile(file);
    if (!error.isEmpty()) m_message->setText(error);
}

QString ExperimentForm::loadFile(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        return tr("%1: cannot read (%2)").arg(path, file.errorString());
    const QString text = QString::fromUtf8(file.readAll());
    const bool autoName = m_name->text().isEmpty() || m_name->property("auto").toBool();
    return loadText(text, path, autoName ? QFileInfo(path).completeBaseName() : QString());
}

QString ExperimentForm::loadText(const QString& text, const QString& source, const QString& name) {
    try {
        MethodRequest request;  // the keys only: its files are checked on a worker by validate()
        request.file = source.toStdString();
        request.text = text.toStdString();
        request.checkOnly = true;
        const run::PreparedRun prepared = run::prepareRequest(request);
        QMap<QString, QString> values;
        for (const auto& [key, value] : prepared.params) values.insert(q(key), q(value));
        m_source = source;
        m_baseText = text;
        showSource(source);
        rebuild(q(prepared.method), values);
        if (!name.isEmpty()) {
            m_name->setText(name);
            m_name->setProperty("auto", true);
        }
        validate();
        return {};
    } catch (const std::exception& e) {
        return q(e.what());
    }
}

void ExperimentForm::rebuild(const QString& method, const QMap<QString, QString>& values) {
    for (Field* f : m_fields) delete f;
    m_fields.clear();
    while (QLayoutItem* item = m_fieldsLayout->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    m_method = method;
    const std::vector<run::ConfigField> schema =
        run::configSchema(method.toStdString(), m_baseText.toStdString());
    // one box per table, its keys in two columns (first half left) so a long table fits a screen
    const auto sectionOf = [this](const QString& key) {
        return key.contains(QLatin1Char('.')) ? key.section(QLatin1Char('.'), 0, -2)
                                              : tr("general");
    };
    QMap<QString, int> counts, placed;
    for (const auto& s : schema) ++counts[sectionOf(q(s.key))];
    QMap<QString, std::pair<QFormLayout*, QFormLayout*>> groups;
    for (const auto& s : schema) {
        const QString key = q(s.key);
        const QString section = sectionOf(key);
        if (!groups.contains(section)) {
            auto* box = new QGroupBox(QStringLiteral("[%1]").arg(section), m_fieldsHost);
            auto* columns = new QHBoxLayout(box);
            std::pair<QFormLayout*, QFormLayout*> pair{new QFormLayout, new QFormLayout};
            for (QFormLayout* f : {pair.first, pair.second}) {
                f->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
                columns->addLayout(f, 1);
            }
            groups.insert(section, pair);
            m_fieldsLayout->addWidget(box);
        }
        const auto pair = groups.value(section);
        const int index = placed[section]++;
        QFormLayout* form = index < (counts.value(section) + 1) / 2 ? pair.first : pair.second;
        auto* field = new Field;
        field->schema = s;
        field->key = key;
        // a seed says whose: [zo] and [peft] each have one
        const QString name = key.section(QLatin1Char('.'), -1) == QLatin1String("seed")
                                 ? tr("%1 seed").arg(section.section(QLatin1Char('.'), -1))
                                 : key.section(QLatin1Char('.'), -1);
        const QString current =
            displayValue(values.contains(key) ? values.value(key) : q(s.defaultValue), s.kind);
        QWidget* host = form->parentWidget() ? form->parentWidget() : m_fieldsHost;
        QWidget* editor = nullptr;
        QWidget* row = nullptr;
        using Kind = run::ConfigField::Kind;
        if (s.kind == Kind::Boolean) {
            field->check = new QCheckBox(host);
            editor = field->check;
            connect(field->check, &QCheckBox::toggled, this, &ExperimentForm::scheduleValidation);
            connect(field->check, &QCheckBox::toggled, this, &ExperimentForm::updateRelevance);
        } else if (!s.choices.empty() || name == QStringLiteral("model") ||
                   name == QStringLiteral("task")) {
            field->combo = new QComboBox(host);
            if (!s.choices.empty()) {
                for (const auto& c : s.choices) field->combo->addItem(q(c));
                // a GPU by index ("cuda:1") is typed; the list offers the CPU and the first GPU
                if (name == QStringLiteral("device")) field->combo->setEditable(true);
            } else {
                field->combo->setEditable(true);
                if (name == QStringLiteral("model")) {
                    for (const auto& [model, what] : run::builtinModels()) {
                        field->combo->addItem(q(model));
                        field->combo->setItemData(field->combo->count() - 1, q(what), Qt::ToolTipRole);
                    }
                    for (const QString& folder : m_prunedModels) field->combo->addItem(folder);
                } else {
                    for (const auto& t : run::builtinTaskNames()) field->combo->addItem(q(t));
                }
            }
            editor = field->combo;
            connect(field->combo, &QComboBox::currentTextChanged, this,
                    &ExperimentForm::scheduleValidation);
            connect(field->combo, &QComboBox::currentTextChanged, this, &ExperimentForm::updateRelevance);
        } else {
            field->line = new QLineEdit(host);
            editor = field->line;
            connect(field->line, &QLineEdit::textChanged, this,
                    &ExperimentForm::scheduleValidation);
            if (name == QStringLiteral("every"))  // live_landscape.every: 0 folds the probe's keys
                connect(field->line, &QLineEdit::textChanged, this, &ExperimentForm::updateRelevance);
        }
        if (s.kind == Kind::Path || name == QStringLiteral("model")) {
            row = new QWidget(host);
            auto* v = new QVBoxLayout(row);
            v->setContentsMargins(0, 0, 0, 0);
            v->setSpacing(2);
            auto* h = new QHBoxLayout;
            v->addLayout(h);
            h->setContentsMargins(0, 0, 0, 0);
            h->addWidget(editor, 1);
            auto* browse = new QPushButton(tr("Browse…"), row);
            h->addWidget(browse);
            if (name == QStringLiteral("model")) {  // what the chosen built-in model is, and its size
                auto* what = new QLabel(row);
                what->setWordWrap(true);
                what->setStyleSheet(QStringLiteral("color: palette(mid);"));
                v->addWidget(what);
                const auto describe = [what](const QString& text) {
                    QString line;
                    for (const auto& [model, about] : run::builtinModels())
                        if (q(model) == text.trimmed()) line = q(about);
                    what->setText(line);
                    what->setVisible(!line.isEmpty());
                };
                connect(field->combo, &QComboBox::currentTextChanged, what, describe);
                describe(current);
            }
            const bool folder = name == QStringLiteral("model");
            connect(browse, &QPushButton::clicked, this, [this, field, folder] {
                const QString chosen =
                    folder
                        ? QFileDialog::getExistingDirectory(
                              this, tr("Model folder (config.json, *.safetensors, tokenizer.json)"))
                        : QFileDialog::getOpenFileName(this, tr("Choose a file"));
                if (!chosen.isEmpty()) field->setText(chosen);
            });
        }
        field->setText(current);
        if (key.contains(QLatin1Char('['))) {  // an entry of an array of tables (data sources)
            editor->setEnabled(false);
            editor->setToolTip(
                tr("%1 is an entry of a list of tables; edit it in the TOML file").arg(key));
        }
        const QString help = q(run::keyHelp(method.toStdString(), s));
        const QString when = q(s.whenText());
        const QString tip =
            (help.isEmpty() ? key : QStringLiteral("%1: %2").arg(key, help)) +
            tr("\n(%1; default %2)").arg(kindText(s), s.defaultValue.empty() ? tr("none") : q(s.defaultValue)) +
            (when.isEmpty() ? QString() : QStringLiteral("\n") + when);
        if (editor->isEnabled()) editor->setToolTip(tip);
        field->label = new QLabel(name, host);
        field->label->setToolTip(tip);
        form->addRow(field->label, row ? row : editor);
        field->form = form;
        field->columns = pair;
        field->box = form->parentWidget();
        field->rowWidget = row ? row : editor;
        m_fields.push_back(field);
    }
    m_fieldsLayout->addStretch(1);
    updateRelevance();
    m_summary->setText(
        tr("method <b>%1</b> · %n key(s) from its config schema · source %2", nullptr,
           static_cast<int>(m_fields.size()))
            .arg(method, m_source.isEmpty() ? tr("(new)") : QFileInfo(m_source).fileName()));
}

QStringList ExperimentForm::keys() const {
    QStringList out;
    for (const Field* f : m_fields) out << f->key;
    return out;
}

QString ExperimentForm::fieldText(const QString& key) const {
    for (const Field* f : m_fields)
        if (f->key == key) return f->text();
    return {};
}

bool ExperimentForm::setFieldText(const QString& key, const QString& text) {
    for (Field* f : m_fields)
        if (f->key == key) {
            f->setText(text);
            return true;
        }
    return false;
}

void ExperimentForm::setRunName(const QString& name) {
    m_name->setText(name);
    m_name->setProperty("auto", false);
}

void ExperimentForm::updateRelevance() {
    std::map<std::string, std::string> values;
    for (const Field* f : m_fields) values[f->key.toStdString()] = f->text().trimmed().toStdString();
    int folded = 0;
    QMap<QWidget*, bool> boxShown;
    QMap<QWidget*, int> boxCount;  // the rows each box shows
    std::vector<run::ConfigField> schema;
    for (const Field* f : m_fields) schema.push_back(f->schema);
    for (Field* f : m_fields) {
        f->used = run::keyUsed(m_method.toStdString(), f->schema, schema, values);
        if (!f->used) ++folded;
        const bool shown = f->used || m_showAll->isChecked();
        boxShown[f->box] = boxShown.value(f->box) || shown;
        if (shown) ++boxCount[f->box];
    }
    // each box's shown rows split evenly between its two columns, in schema order: every row is
    // taken out and put back as keys fold and unfold (the widgets stay, with what was typed)
    for (Field* f : m_fields)
        if (f->form->indexOf(f->rowWidget) >= 0) {
            const QFormLayout::TakeRowResult row = f->form->takeRow(f->rowWidget);
            delete row.labelItem;  // the layout items, not the widgets
            delete row.fieldItem;
        }
    QMap<QWidget*, int> placed;
    for (Field* f : m_fields) {
        const bool shown = f->used || m_showAll->isChecked();
        const int index = shown ? placed[f->box]++ : placed.value(f->box);
        f->form = index < (boxCount.value(f->box) + 1) / 2 ? f->columns.first : f->columns.second;
        f->form->addRow(f->label, f->rowWidget);
    }
    for (Field* f : m_fields) {
        f->form->setRowVisible(f->rowWidget, f->used || m_showAll->isChecked());
        f->label->setEnabled(f->used);  // shown under "advanced": greyed, still editable
    }
    for (auto it = boxShown.begin(); it != boxShown.end(); ++it)
        if (it.key()) it.key()->setVisible(it.value());
    m_showAll->setVisible(folded > 0);
    m_showAll->setText(tr("Advanced: also show the %n key(s) these choices do not read", nullptr, folded));
}

bool ExperimentForm::keyShown(const QString& key) const {
    for (const Field* f : m_fields)
        if (f->key == key) return f->used || m_showAll->isChecked();
    return false;
}

void ExperimentForm::setShowAllKeys(bool on) { m_showAll->setChecked(on); }

QStringList ExperimentForm::invalidKeys() const {
    QStringList out;
    for (const Field* f : m_fields)
        if (!f->problem.isEmpty()) out << f->key;
    return out;
}

void ExperimentForm::setPrunedModels(const QStringList& folders) {
    m_prunedModels = folders;
    for (Field* f : m_fields)
        if (f->combo && f->key.endsWith(QStringLiteral(".model")))
            for (const QString& folder : folders)
                if (f->combo->findText(folder) < 0) f->combo->addItem(folder);
    if (!m_fields.isEmpty()) validate();
}

std::vector<std::string> ExperimentForm::overrides() const {
    std::vector<std::string> out;
    using Kind = run::ConfigField::Kind;
    for (const Field* f : m_fields) {
        const QString text = f->text().trimmed();
        if (!f->used && text == displayValue(q(f->schema.defaultValue), f->schema.kind)) continue;  // not read, not changed
        if (text.isEmpty()) continue;  // the reader's default
        if (f->key.contains(QLatin1Char('[')))
            continue;  // kept as the file has it (not editable here)
        QString value = isGridField(*f) ? text.section(QLatin1Char(','), 0, 0).trimmed() : text;  // a grid: its first
        if (f->schema.kind == Kind::String || f->schema.kind == Kind::Path)
            value = tomlString(value);
        if (f->schema.kind == Kind::List && !text.startsWith(QLatin1Char('['))) {  // "q, v": its items
            QStringList items;
            for (const QString& item : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
                bool number = false;
                item.trimmed().toDouble(&number);
                items << (number ? item.trimmed() : tomlString(item.trimmed()));
            }
            value = QLatin1Char('[') + items.join(QStringLiteral(", ")) + QLatin1Char(']');
        }
        out.push_back((f->key + QLatin1Char('=') + value).toStdString());
    }
    return out;
}

bool ExperimentForm::isGridField(const Field& f) {
    return f.schema.kind != run::ConfigField::Kind::List && !f.key.contains(QLatin1Char('[')) &&
           f.text().contains(QLatin1Char(','));
}

std::vector<std::string> ExperimentForm::gridAxes() const {
    std::vector<std::string> axes;
    for (const Field* f : m_fields) {
        if (!isGridField(*f)) continue;
        QStringList values;
        for (const QString& v : f->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            const QString value = v.trimmed();
            values << (f->schema.kind == run::ConfigField::Kind::String || f->schema.kind == run::ConfigField::Kind::Path
                           ? tomlString(value)
                           : value);
        }
        axes.push_back((f->key + QLatin1Char('=') + values.join(QLatin1Char(','))).toStdString());
    }
    return axes;
}

int ExperimentForm::gridSize() const {
    int n = 1;
    for (const Field* f : m_fields)
        if (isGridField(*f)) n *= static_cast<int>(f->text().split(QLatin1Char(','), Qt::SkipEmptyParts).size());
    return n;
}

QString ExperimentForm::validate() {
    // One reading of the config, its keys only: every problem it finds, each on its field.
    for (Field* f : m_fields) f->problem.clear();
    QStringList problems;
    const std::vector<std::string> base = overrides();
    std::vector<std::vector<std::string>> readings{base};
    // a grid ("lr = 1e-4, 3e-4, 1e-3"): every value of each axis read as well, each with the
    // first values of the others
    for (const std::string& axis : gridAxes())
        for (const std::string& value : run::sweepValues(axis)) {
            std::vector<std::string> o = base;
            const std::string key = value.substr(0, value.find('=') + 1);
            for (std::string& item : o)
                if (item.compare(0, key.size(), key) == 0) item = value;
            readings.push_back(std::move(o));
        }
    for (const auto& reading : readings)
        for (const ConfigProblem& p : run::checkConfig(m_baseText.toStdString(), "the form", reading)) {
            const QString error = formMessage(q(p.message));
            if (!problems.contains(error)) problems << error;
            for (Field* f : m_fields)
                if (f->key == q(p.key) && f->problem.isEmpty()) f->problem = error;
        }
    // A recovery run keeps a pruned model's zeros: the built-in model has none to keep.
    for (Field* f : m_fields) {
        if (!f->key.endsWith(QStringLiteral(".keep_zeros")) || f->text() != QStringLiteral("true")) continue;
        const QString modelKey = f->key.section(QLatin1Char('.'), 0, -2) + QStringLiteral(".model");
        for (Field* model : m_fields)
            if (model->key == modelKey && model->problem.isEmpty() &&
                (model->text().trimmed().isEmpty() || model->text().trimmed() == q(run::builtinModelName()))) {
                model->problem =
                    tr("%1: choose the pruned model's folder (a prune run with save = true writes it%2); "
                       "%3 keeps its zero weights at zero, and the built-in model has none")
                        .arg(modelKey,
                             m_prunedModels.isEmpty() ? tr("; Browse… to it")
                                                      : tr("; the pruned models of this database are listed"),
                             f->key);
                problems << model->problem;
            }
    }
    const QString message = problems.join(QLatin1Char('\n'));
    m_keysValid = message.isEmpty();
    showProblems(message);
    startInputCheck();
    return message;
}

void ExperimentForm::showProblems(const QString& message) {
    for (Field* f : m_fields) {
        const bool bad = !f->problem.isEmpty();
        f->editor()->setStyleSheet(bad ? QStringLiteral("border: 1px solid #b00020;") : QString());
        f->label->setStyleSheet(bad ? QStringLiteral("color: #b00020;") : QString());
        if (bad && !f->used) m_showAll->setChecked(true);  // an invalid key is never hidden
    }
    m_message->setStyleSheet(message.isEmpty() ? QStringLiteral("color: #2e7d32;")
                                               : QStringLiteral("color: #b00020;"));
    const QString grid = gridSize() > 1 ? tr(" · a grid of %1 runs: Start queues them all, the first starting now")
                                                .arg(gridSize())
                                          : QString();
    m_message->setText(message.isEmpty() ? (m_checking ? tr("valid; checking its files…") : tr("valid")) + grid : message);
    const bool ready = message.isEmpty() && !m_checking && m_prepared;
    m_start->setEnabled(ready && !m_running);
    m_queue->setEnabled(ready);
}

// The inputs (task files, the model folder, its tokenizer), what the run trains and its memory
// estimate, read on a worker thread: the full reader of `frugal run`, whose PreparedRun a run
// started from the form then uses as it is.
void ExperimentForm::startInputCheck() {
    const int generation = ++m_checkGeneration;
    m_prepared.reset();
    m_trainable->clear();
    m_trainable->setVisible(false);
    m_checking = m_keysValid;
    if (!m_keysValid) {
        showProblems(m_message->text());
        return;
    }
    showProblems(QString());
    auto result = std::make_shared<InputCheck>();
    const std::string text = m_baseText.toStdString();
    const std::vector<std::string> overrides = this->overrides();
    QThread* worker = QThread::create([result, text, overrides] {
        try {
            result->prepared = std::make_shared<run::PreparedRun>(run::prepareRunText(text, "the form", overrides, {}));
            try {
                if (const auto summary = run::trainableSummary(text, "the form", overrides)) {
                    result->trainable = tr("Trainable: %1").arg(q(summary->line()));
                    if (!summary->memory.empty()) result->trainable += tr("\nMemory: %1").arg(q(summary->memory));
                }
            } catch (const std::exception& e) {
                result->trainable = tr("Trainable: cannot count (%1)").arg(q(e.what()));
            }
        } catch (const ConfigError& e) {
            result->key = e.key();
            result->error = formMessage(q(e.what()));
        } catch (const std::exception& e) {
            result->error = formMessage(q(e.what()));
        }
    });
    connect(worker, &QThread::finished, worker, &QObject::deleteLater);
    connect(worker, &QThread::finished, this, [this, result, generation] {
        if (generation == m_checkGeneration) applyInputCheck(*result);  // else an edit came since
    });
    m_workers.removeAll(QPointer<QThread>());
    m_workers.push_back(worker);
    worker->start();
}

void ExperimentForm::applyInputCheck(const InputCheck& check) {
    m_checking = false;
    if (!check.error.isEmpty()) {
        for (Field* f : m_fields)
            if (f->key == q(check.key)) f->problem = check.error;
        showProblems(check.error);
        return;
    }
    m_prepared = check.prepared;
    m_trainable->setText(check.trainable);
    m_trainable->setVisible(!check.trainable.isEmpty());
    showProblems(QString());
}

bool ExperimentForm::waitForChecks(int ms) {
    if (m_validateTimer->isActive()) {  // an edit not validated yet
        m_validateTimer->stop();
        validate();
    }
    QElapsedTimer clock;
    clock.start();
    while (m_checking && clock.elapsed() < ms) QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    return !m_checking;
}

QString ExperimentForm::message() const { return m_message->text(); }

QString ExperimentForm::trainableText() const { return m_trainable->text(); }

QString ExperimentForm::resolvedConfig() {
    try {
        return q(readKeys(overrides()).resolvedConfig);
    } catch (const std::exception&) {
        return {};
    }
}

bool ExperimentForm::saveFile(const QString& path, QString* error) {
    const QString message = validate();
    const QString text = resolvedConfig();
    if (!message.isEmpty() || text.isEmpty()) {
        if (error) *error = message;
        return false;
    }
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) {
        if (error) *error = tr("%1: cannot write (%2)").arg(path, file.errorString());
        return false;
    }
    file.write(QStringLiteral("# saved from the Frugal workbench; run it with: frugal run %1\n\n")
                   .arg(QFileInfo(path).fileName())
                   .toUtf8());
    file.write(text.toUtf8());
    return true;
}

void ExperimentForm::setRunning(bool running) {
    m_running = running;
    m_start->setEnabled(!running && m_keysValid && !m_checking && m_prepared);
    m_start->setToolTip(running ? tr("A run is going: queue this one, or stop that one first")
                                : QString());
}

bool ExperimentForm::makeJob(RunJob& job) {
    if (m_validateTimer->isActive()) {  // an edit not validated yet
        m_validateTimer->stop();
        validate();
    }
    // the PreparedRun of the last inputs' check, made on its worker (nothing is read here)
    if (!m_prepared) waitForChecks();
    if (!m_prepared) return false;
    try {
        std::shared_ptr<const run::PreparedRun> prepared = m_prepared;
        const run::Provenance prov = run::collectProvenance({"frugal", "workbench"}, run::sourceTree());
        job.name = m_name->text().trimmed().isEmpty() ? m_method : m_name->text().trimmed();
        job.newRun = run::newRunFor(*prepared, prov, job.name.toStdString(), "workbench");
        job.prepared = std::move(prepared);
        return true;
    } catch (const std::exception& e) {
        m_message->setText(formMessage(q(e.what())));
        return false;
    }
}

bool ExperimentForm::makeGridJobs(QVector<RunJob>& jobs) {
    try {
        const auto axes = gridAxes();
        const auto grid = run::sweepGrid(axes);
        const run::Provenance prov = run::collectProvenance({"frugal", "workbench"}, run::sourceTree());
        // each run named by what differs ("lr=3e-4 seed=2"), the form's name its experiment (the
        // runs table's hover shows both)
        const std::string experiment = m_name->text().trimmed().isEmpty() ? "workbench" : m_name->text().trimmed().toStdString();
        for (const auto& combo : grid) {
            std::vector<std::string> o = overrides();
            for (const std::string& value : combo) {
                const std::string key = value.substr(0, value.find('=') + 1);
                for (std::string& item : o)
                    if (item.compare(0, key.size(), key) == 0) item = value;
            }
            RunJob job;
            auto prepared = std::make_shared<run::PreparedRun>(run::prepareRunText(m_baseText.toStdString(), "the form", o, {}));
            job.name = q(run::sweepName(combo, grid, ""));
            job.newRun = run::newRunFor(*prepared, prov, job.name.toStdString(), experiment);
            job.prepared = std::move(prepared);
            jobs << job;
        }
        return true;
    } catch (const std::exception& e) {
        m_message->setText(formMessage(q(e.what())));
        return false;
    }
}

void ExperimentForm::startNow() {
    if (gridSize() > 1) {  // a grid: every run queued, the first starting now
        QVector<RunJob> jobs;
        if (!m_running && makeGridJobs(jobs))
            for (const RunJob& job : jobs) emit runRequested(job, false);
        return;
    }
    RunJob job;
    if (!m_running && makeJob(job)) emit runRequested(job, true);
}

void ExperimentForm::queue() {
    if (gridSize() > 1) {
        QVector<RunJob> jobs;
        if (makeGridJobs(jobs))
            for (const RunJob& job : jobs) emit runRequested(job, false);
        return;
    }
    RunJob job;
    if (makeJob(job)) emit runRequested(job, false);
}

void ExperimentForm::openDialog() {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open an experiment config"), experimentsDir(), tr("TOML configs (*.toml)"));
    if (path.isEmpty()) return;
    const QString error = loadFile(path);
    if (!error.isEmpty()) {
        m_message->setStyleSheet(QStringLiteral("color: #b00020;"));
        m_message->setText(error);
    }
}

void ExperimentForm::saveDialog() {
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Save the experiment config"),
        QDir(experimentsDir()).filePath(m_name->text() + QStringLiteral(".toml")),
        tr("TOML configs (*.toml)"));
    if (path.isEmpty()) return;
    QString error;
    if (!saveFile(path, &error)) m_message->setText(error);
}

void ExperimentForm::scheduleValidation() {
    // what was checked is no longer what the form says
    ++m_checkGeneration;
    m_prepared.reset();
    m_checking = false;
    m_validateTimer->start();
}

void ExperimentForm::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (m_validatePending) {
        m_validatePending = false;
        m_validateTimer->start();
    }
}

}  // namespace frugal::ui
