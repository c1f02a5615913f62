#include "queue_panel.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>
#include <algorithm>

#include "run_controller.h"

namespace frugal::ui {

QueuePanel::QueuePanel(RunController* controller, QWidget* parent) : QWidget(parent), m_controller(controller) {
    m_title = new QLabel(this);
    m_list = new QListWidget(this);
    m_list->setMaximumHeight(110);
    m_up = new QPushButton(tr("Up"), this);
    m_down = new QPushButton(tr("Down"), this);
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_clear = new QPushButton(tr("Cancel all"), this);
    m_parallel = new QSpinBox(this);
    m_parallel->setRange(1, 2);
    m_parallel->setPrefix(tr("at a time: "));
    m_parallel->setToolTip(tr("2: the next queued run starts beside the running one when its memory estimate "
                              "fits in 80 % of the memory free (it then runs without live streaming; open it "
                              "from Runs)"));
    m_wait = new QLabel(this);
    m_wait->setWordWrap(true);
    m_wait->setStyleSheet(QStringLiteral("color: #616161;"));
    m_up->setToolTip(tr("Start the selected queued run earlier"));
    m_down->setToolTip(tr("Start the selected queued run later"));
    m_cancel->setToolTip(tr("Take the selected run out of the queue (it never starts)"));
    auto* buttons = new QVBoxLayout;
    buttons->addWidget(m_parallel);
    for (QPushButton* b : {m_up, m_down, m_cancel, m_clear}) buttons->addWidget(b);
    buttons->addStretch(1);
    auto* listRow = new QHBoxLayout;
    listRow->setContentsMargins(0, 0, 0, 0);
    listRow->addWidget(m_list, 1);
    listRow->addLayout(buttons);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_title);
    layout->addLayout(listRow);
    layout->addWidget(m_wait);
    connect(m_parallel, &QSpinBox::valueChanged, m_controller, &RunController::setParallel);
    connect(m_controller, &RunController::sideRunStarted, this, &QueuePanel::refill);
    connect(m_controller, &RunController::queueChanged, this, &QueuePanel::refill);
    connect(m_controller, &RunController::runStarted, this, &QueuePanel::refill);
    connect(m_controller, &RunController::runEnded, this, &QueuePanel::refill);
    connect(m_up, &QPushButton::clicked, this, [this] { move(-1); });
    connect(m_down, &QPushButton::clicked, this, [this] { move(+1); });
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        const int row = m_list->currentRow() - 1;  // row 0 is the run going
        if (row >= 0) m_controller->cancelQueued(row);
    });
    connect(m_clear, &QPushButton::clicked, m_controller, &RunController::clearQueue);
    connect(m_list, &QListWidget::currentRowChanged, this, [this](int row) {
        const int n = m_controller->queued();
        m_up->setEnabled(row >= 2);
        m_down->setEnabled(row >= 1 && row < n);
        m_cancel->setEnabled(row >= 1);
    });
    refill();
}

QStringList QueuePanel::rows() const {
    QStringList out;
    for (int i = 0; i < m_list->count(); ++i) out << m_list->item(i)->text();
    return out;
}

void QueuePanel::refill() {
    const int selected = m_list->currentRow();
    m_list->clear();
    const QStringList names = m_controller->queuedNames();
    const bool beside = m_controller->sideBusy();
    setVisible(!names.isEmpty() || beside);
    m_wait->setText(m_controller->waitReason());
    m_wait->setVisible(!m_controller->waitReason().isEmpty());
    if (names.isEmpty() && !beside) return;
    m_title->setText(m_controller->parallel() > 1
                         ? tr("<b>Queue</b>: %n run(s) waiting; in this order, two at a time where memory allows",
                              nullptr, static_cast<int>(names.size()))
                         : tr("<b>Queue</b>: %n run(s) waiting; they start one after another in this order", nullptr,
                              static_cast<int>(names.size())));
    auto* going = new QListWidgetItem(tr("running · run %1").arg(m_controller->currentRun()), m_list);
    going->setFlags(going->flags() & ~Qt::ItemIsSelectable);
    if (beside) {  // kept at row 0's side: the queued rows stay at 1, 2, ...
        going->setText(going->text() + tr("  ·  beside it: run %1").arg(m_controller->sideRun()));
    }
    for (int i = 0; i < names.size(); ++i) new QListWidgetItem(tr("queued · %1 · %2").arg(i + 1).arg(names[i]), m_list);
    m_list->setCurrentRow(std::min(selected, static_cast<int>(names.size())));
    m_clear->setEnabled(true);
}

void QueuePanel::move(int by) {
    const int row = m_list->currentRow() - 1;
    const int to = row + by;
    if (row < 0 || to < 0 || to >= m_controller->queued()) return;
    m_controller->moveQueued(row, to);
    m_list->setCurrentRow(to + 1);
}

}  // namespace frugal::ui
